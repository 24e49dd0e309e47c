import CTraceDigest

/// A SHA-256 digest: the link in the record hash chain. Stored inline (no heap allocation per hash).
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes in order, as four words in memory order.
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// The all-zero digest: what the very first record on a host chains to.
    public static let zero = SHA256Digest()

    private init() {}

    init(unchecked bytes: [UInt8]) {
        withUnsafeMutableBytes(of: &storage) { out in
            for (i, byte) in bytes.prefix(32).enumerated() { out[i] = byte }
        }
    }

    /// Hashes `data` with the best implementation the CPU offers.
    public init(hashing data: some Collection<UInt8>) {
        let hashed: Void? = data.withContiguousStorageIfAvailable { buffer in
            withUnsafeMutableBytes(of: &storage) { wd_sha256(buffer.baseAddress, buffer.count, $0.baseAddress) }
        }
        if hashed == nil {
            let copy = Array(data)
            copy.withUnsafeBufferPointer { buffer in
                withUnsafeMutableBytes(of: &storage) { wd_sha256(buffer.baseAddress, buffer.count, $0.baseAddress) }
            }
        }
    }

    /// Parses 64 hex digits; nil for anything else.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 32 else { return nil }
        self.init(unchecked: raw)
    }

    /// The 32 raw bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }

    /// Calls `body` with the 32 bytes, without copying them.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T { withUnsafeBytes(of: storage) { body($0) } }

    /// Lowercase hex, 64 digits.
    public var hex: String { withUnsafeBytes(of: storage) { Hex.encode($0) } }
    public var description: String { hex }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2 && a.storage.3 == b.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0); hasher.combine(storage.1); hasher.combine(storage.2); hasher.combine(storage.3)
    }
}

/// Streaming SHA-256 for callers that hash in pieces (file contents, cut tails).
public struct SHA256Hasher {
    private var context = wd_sha256_ctx()

    /// Starts a hash; `hardware` nil picks the best implementation, false forces portable C.
    public init(hardware: Bool? = nil) {
        wd_sha256_init(&context, hardware.map { $0 ? Int32(WD_DIGEST_HARDWARE) : Int32(WD_DIGEST_PORTABLE) } ?? -1)
    }

    /// True when the SHA-NI block function is in use.
    public var usesHardware: Bool { context.hardware != 0 }

    public mutating func update(_ data: some Collection<UInt8>) {
        let done: Void? = data.withContiguousStorageIfAvailable { buffer in
            wd_sha256_update(&context, buffer.baseAddress, buffer.count)
        }
        if done == nil { Array(data).withUnsafeBufferPointer { wd_sha256_update(&context, $0.baseAddress, $0.count) } }
    }

    public mutating func finalize() -> SHA256Digest {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { wd_sha256_final(&context, $0.baseAddress) }
        return SHA256Digest(unchecked: out)  // once per stream; the per-record path hashes in one shot
    }
}

/// CRC-32C (Castagnoli), the frame checksum.
public enum CRC32C {
    /// CRC-32C of `data`, continuing from `crc` (0 to start); `hardware` nil picks the best implementation.
    public static func checksum(_ data: UnsafeRawBufferPointer, continuing crc: UInt32 = 0, hardware: Bool? = nil) -> UInt32 {
        let impl: Int32 = hardware.map { $0 ? Int32(WD_DIGEST_HARDWARE) : Int32(WD_DIGEST_PORTABLE) } ?? -1
        return wd_crc32c(crc, data.baseAddress, data.count, impl)
    }

    /// CRC-32C of a byte array.
    public static func checksum(_ data: [UInt8], continuing crc: UInt32 = 0, hardware: Bool? = nil) -> UInt32 {
        data.withUnsafeBytes { checksum($0, continuing: crc, hardware: hardware) }
    }

    /// Whether the CPU offers SSE4.2 crc32 (bit 0) and SHA-NI (bit 1).
    public static var hardwareFeatures: Int32 { wd_digest_hardware_features() }
}

/// Lowercase hex encoding and strict decoding.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex of even length; nil on any other character.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
