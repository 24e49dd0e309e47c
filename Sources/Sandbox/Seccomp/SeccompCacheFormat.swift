/// The cache file layout (all integers little-endian):
///
///     "WSECCOMP"  u32 format=1
///     u32 keyLength, key bytes                  (compared byte for byte with the expected key)
///     u32 allowedSyscallCount, u32 installFlags
///     u32 auditCount, then per entry: u32 number, u32 errno, u32 nameLength, name bytes
///     u32 bpfLength, bpf bytes                  (a multiple of 8)
///     u64 FNV-1a of everything above
enum CacheFileFormat {
    static func encode(_ program: SeccompProgram, key: [UInt8]) -> [UInt8] {
        var out = SeccompCache.magic
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { out.append(contentsOf: $0) } }
        u32(1)
        u32(key.count); out += key
        u32(program.allowedSyscallCount); u32(Int(program.installFlags))
        u32(program.auditedSyscalls.count)
        for entry in program.auditedSyscalls {
            let name = Array(entry.name.utf8)
            u32(Int(entry.number)); u32(Int(entry.errno)); u32(name.count); out += name
        }
        u32(program.bpf.count); out += program.bpf
        withUnsafeBytes(of: Checksum.fnv1a64(out).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    static func decode(_ bytes: [UInt8], expectedKey: [UInt8]) -> SeccompProgram? {
        guard bytes.count >= 8 + 4 + 8 else { return nil }
        let body = bytes[..<(bytes.count - 8)]
        var stored: UInt64 = 0
        for (i, byte) in bytes[(bytes.count - 8)...].enumerated() { stored |= UInt64(byte) << UInt64(8 * i) }
        guard stored == Checksum.fnv1a64(body) else { return nil }
        var reader = ByteCursor(bytes: Array(body))
        guard reader.take(8) == SeccompCache.magic, reader.u32() == 1,
              let keyLength = reader.u32(), reader.take(Int(keyLength)) == expectedKey,
              let allowed = reader.u32(), let flags = reader.u32(), let auditCount = reader.u32(), auditCount < 1024 else { return nil }
        var audited: [SeccompProgram.AuditedSyscall] = []
        for _ in 0..<auditCount {
            guard let number = reader.u32(), let errno = reader.u32(), let length = reader.u32(),
                  let name = reader.take(Int(length)) else { return nil }
            audited.append(.init(name: String(decoding: name, as: UTF8.self), number: Int32(bitPattern: number), errno: Int32(bitPattern: errno)))
        }
        guard let bpfLength = reader.u32(), bpfLength > 0, bpfLength % 8 == 0, let bpf = reader.take(Int(bpfLength)),
              reader.isAtEnd else { return nil }
        return SeccompProgram(bpf: bpf, allowedSyscallCount: Int(allowed), auditedSyscalls: audited, installFlags: flags)
    }
}

/// Reads little-endian fields from a byte array (up to `end`), returning nil past the end.
struct ByteCursor {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var isAtEnd: Bool { offset == end }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, end - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Consumes `length` bytes if they equal `expected` (compared in place, without a copy).
    mutating func skip(over expected: [UInt8], length: Int) -> Bool {
        guard length == expected.count, end - offset >= length,
              bytes[offset..<(offset + length)].elementsEqual(expected) else { return false }
        offset += length
        return true
    }

    mutating func u32() -> UInt32? {
        guard end - offset >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}

/// FNV-1a, 64-bit: a fast non-cryptographic hash. Cache integrity rests on the full key comparison
/// and file ownership, not on this hash.
enum Checksum {
    static func fnv1a64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        // Contiguous storage (arrays, array slices): a plain pointer loop, ~10x the generic one.
        if let hash = bytes.withContiguousStorageIfAvailable({ fnv1a64(buffer: UnsafeRawBufferPointer($0)) }) { return hash }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static func fnv1a64(buffer: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in buffer { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
