import Glibc
import Specs

/// The prepared-policy cache file (all integers little-endian, strings as u32 length + UTF-8):
///
///     "WPOLICY1"  u32 format=1
///     u32 keyLength, key bytes                   (compared byte for byte with the expected key)
///     u32 count, then per bind source of the policy text: string, u8 exists   (re-checked on load)
///     u32 count, then per bind: string source, string target, u8 readOnly
///     u32 count, then per symlink: string path, string target
///     u32 count, then per tmpfs: string path, u64 size, u32 mode
///     u8 hasWorkspace, then string path
///     u64 memory, pids, cpuMillis, wallMilliseconds, openFiles, fileSize
///     u32 allowedSyscallCount, u32 installFlags, u32 auditCount + entries, u32 bpfLength, bpf
///     u64 FNV-1a of everything above
enum PreparedFormat {
    static let magic: [UInt8] = Array("WPOLICY1".utf8)

    /// The host facts the validation of a policy depends on: whether each bind source exists.
    struct HostFacts: Equatable {
        var sources: [String]
        var exists: [Bool]

        /// Checks every source now (the same test as the validator: stat succeeds).
        init(sources: [String]) {
            self.sources = sources
            exists = sources.map { source in
                var info = stat()
                return stat(source, &info) == 0
            }
        }

        init(sources: [String], exists: [Bool]) {
            self.sources = sources
            self.exists = exists
        }

        /// Every `filesystem.binds[].source` string of a policy text, valid or not (nil if the text
        /// does not even parse: the full load will say why).
        static func sources(of bytes: [UInt8]) -> [String]? {
            do throws(JSONError) {
                let root = try JSONParser.parseDocument(bytes).reader.anyObject()
                guard let filesystem = try root.optional("filesystem")?.anyObject(),
                      let binds = try filesystem.optional("binds")?.array() else { return [] }
                var sources: [String] = []
                for bind in binds {
                    if let source = try bind.anyObject().optional("source")?.string() { sources.append(source) }
                }
                return sources
            } catch {
                return nil
            }
        }
    }

    static func encode(_ policy: PreparedPolicy, key: PolicyKey, facts: HostFacts) -> [UInt8] {
        var out = ByteWriter(magic)
        out.u32(1)
        out.bytes(key.text)
        out.u32(facts.sources.count)
        for (source, exists) in zip(facts.sources, facts.exists) { out.string(source); out.u8(exists ? 1 : 0) }
        out.u32(policy.binds.count)
        for bind in policy.binds { out.string(bind.source); out.string(bind.target); out.u8(bind.readOnly ? 1 : 0) }
        out.u32(policy.symlinks.count)
        for link in policy.symlinks { out.string(link.path); out.string(link.target) }
        out.u32(policy.tmpfs.count)
        for tmpfs in policy.tmpfs { out.string(tmpfs.path); out.u64(tmpfs.sizeBytes); out.u32(Int(tmpfs.mode)) }
        out.u8(policy.workspacePath == nil ? 0 : 1)
        if let path = policy.workspacePath { out.string(path) }
        let limits = policy.limits
        for value in [limits.memoryBytes, UInt64(bitPattern: Int64(limits.pids)), UInt64(bitPattern: Int64(limits.cpuMillis)),
                      UInt64(bitPattern: limits.wallMilliseconds), UInt64(bitPattern: Int64(limits.openFiles)), limits.fileSizeBytes] {
            out.u64(value)
        }
        let program = policy.program
        out.u32(program.allowedSyscallCount); out.u32(Int(program.installFlags))
        out.u32(program.auditedSyscalls.count)
        for entry in program.auditedSyscalls {
            out.u32(Int(UInt32(bitPattern: entry.number))); out.u32(Int(UInt32(bitPattern: entry.errno))); out.string(entry.name)
        }
        out.bytes(program.bpf)
        out.u64(Checksum.fnv1a64(out.data))
        return out.data
    }

    /// The prepared policy in `bytes`, or nil when the file is corrupt, for another key, or when a
    /// bind source appeared or vanished since it was written (the validation could differ now).
    static func decode(_ bytes: [UInt8], key: PolicyKey) -> PreparedPolicy? {
        guard bytes.count > 8 else { return nil }
        let body = bytes[..<(bytes.count - 8)]
        var tail = ByteCursor(bytes: bytes, offset: bytes.count - 8)
        guard tail.u64() == Checksum.fnv1a64(body) else { return nil }
        var reader = ByteCursor(bytes: bytes, end: bytes.count - 8)
        guard reader.take(8) == magic, reader.u32() == 1, let keyLength = reader.u32(),
              reader.skip(over: key.text, length: Int(keyLength)), let facts = readFacts(&reader),
              facts == HostFacts(sources: facts.sources) else { return nil }
        return readPolicy(&reader)
    }

    static func readFacts(_ reader: inout ByteCursor) -> HostFacts? {
        guard let count = reader.u32(), count <= 4096 else { return nil }
        var sources: [String] = [], exists: [Bool] = []
        for _ in 0..<count {
            guard let source = reader.string(), let flag = reader.u8() else { return nil }
            sources.append(source); exists.append(flag != 0)
        }
        return HostFacts(sources: sources, exists: exists)
    }

    static func readPolicy(_ reader: inout ByteCursor) -> PreparedPolicy? {
        guard let bindCount = reader.u32(), bindCount <= 4096 else { return nil }
        var binds: [PreparedPolicy.Bind] = []
        for _ in 0..<bindCount {
            guard let source = reader.string(), let target = reader.string(), let readOnly = reader.u8() else { return nil }
            binds.append(.init(source: source, target: target, readOnly: readOnly != 0))
        }
        guard let linkCount = reader.u32(), linkCount <= 4096 else { return nil }
        var links: [PreparedPolicy.Symlink] = []
        for _ in 0..<linkCount {
            guard let path = reader.string(), let target = reader.string() else { return nil }
            links.append(.init(path: path, target: target))
        }
        guard let tmpfsCount = reader.u32(), tmpfsCount <= 4096 else { return nil }
        var tmpfs: [PreparedPolicy.Tmpfs] = []
        for _ in 0..<tmpfsCount {
            guard let path = reader.string(), let size = reader.u64(), let mode = reader.u32() else { return nil }
            tmpfs.append(.init(path: path, sizeBytes: size, mode: mode))
        }
        guard let hasWorkspace = reader.u8() else { return nil }
        let workspace = hasWorkspace != 0 ? reader.string() : nil
        if hasWorkspace != 0 && workspace == nil { return nil }
        guard let memory = reader.u64(), let pids = reader.u64(), let cpu = reader.u64(), let wall = reader.u64(),
              let files = reader.u64(), let fileSize = reader.u64(), let program = readProgram(&reader), reader.isAtEnd
        else { return nil }
        let limits = ResourceLimits(memoryBytes: memory, pids: Int(Int64(bitPattern: pids)), cpuMillis: Int(Int64(bitPattern: cpu)),
                                    wallMilliseconds: Int64(bitPattern: wall), openFiles: Int(Int64(bitPattern: files)),
                                    fileSizeBytes: fileSize)
        return PreparedPolicy(binds: binds, symlinks: links, tmpfs: tmpfs, workspacePath: workspace, limits: limits, program: program)
    }

    static func readProgram(_ reader: inout ByteCursor) -> SeccompProgram? {
        guard let allowed = reader.u32(), let flags = reader.u32(), let auditCount = reader.u32(), auditCount < 1024 else { return nil }
        var audited: [SeccompProgram.AuditedSyscall] = []
        for _ in 0..<auditCount {
            guard let number = reader.u32(), let errno = reader.u32(), let name = reader.string() else { return nil }
            audited.append(.init(name: name, number: Int32(bitPattern: number), errno: Int32(bitPattern: errno)))
        }
        guard let bpfLength = reader.u32(), bpfLength > 0, bpfLength % 8 == 0, let bpf = reader.take(Int(bpfLength)) else { return nil }
        return SeccompProgram(bpf: bpf, allowedSyscallCount: Int(allowed), auditedSyscalls: audited, installFlags: flags)
    }
}

/// Appends little-endian fields to a byte array.
struct ByteWriter {
    var data: [UInt8]

    init(_ prefix: [UInt8]) { data = prefix }

    mutating func u8(_ value: UInt8) { data.append(value) }
    mutating func u32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    /// A u32 length, then the bytes.
    mutating func bytes(_ value: [UInt8]) { u32(value.count); data += value }
    mutating func string(_ value: String) { bytes(Array(value.utf8)) }
}

extension ByteCursor {
    mutating func u8() -> UInt8? {
        guard end - offset >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u64() -> UInt64? {
        guard let low = u32(), let high = u32() else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }

    /// A u32 length, then that many bytes of UTF-8 (nil when invalid).
    mutating func string() -> String? {
        guard let length = u32(), let raw = take(Int(length)) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
