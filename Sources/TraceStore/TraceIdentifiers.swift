import Glibc

/// An 8-byte span id, written as 16 lowercase hex digits (the OTLP span id). Stored inline.
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    /// The 8 bytes in memory order.
    private let value: UInt64

    /// A random non-zero span id.
    public static func random() -> SpanID { SpanID(unchecked: randomBytes(8)) }

    init(unchecked bytes: [UInt8]) {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { out in for (i, byte) in bytes.prefix(8).enumerated() { out[i] = byte } }
        self.value = value
    }

    /// Parses 16 hex digits that are not all zero.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 8, raw.contains(where: { $0 != 0 }) else { return nil }
        self.init(unchecked: raw)
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// Calls `body` with the 8 bytes, without copying them.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T { withUnsafeBytes(of: value) { body($0) } }

    public var hex: String { withUnsafeBytes(of: value) { Hex.encode($0) } }
    public var description: String { hex }
}

/// A 16-byte trace id (one per run), written as 32 lowercase hex digits (the OTLP trace id).
public struct TraceID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public static func random() -> TraceID { TraceID(unchecked: randomBytes(16)) }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 16, raw.contains(where: { $0 != 0 }) else { return nil }
        bytes = raw
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// A run's id: UTC start time plus random hex, e.g. `20261202T191000Z-3fa2c1d4e5f60718`;
/// sortable by start time and safe as a file name.
public enum RunID {
    /// A fresh run id for a run starting now.
    public static func make(wallNanoseconds: UInt64 = TraceClock.wallNanoseconds()) -> String {
        var seconds = time_t(wallNanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
        return stamp + "-" + Hex.encode(randomBytes(8))
    }

    /// True for names made of letters, digits, '-', '_' and '.', not starting with '.', at most 128 bytes.
    public static func isValid(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 128, !id.hasPrefix(".") else { return false }
        return id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
    }
}

/// `count` random bytes, never all zero (SystemRandomNumberGenerator reads getrandom(2) on Linux).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var out = [UInt8](repeating: 0, count: count)
    repeat {
        for i in 0..<count { out[i] = UInt8.random(in: 0...255, using: &generator) }
    } while !out.contains(where: { $0 != 0 })
    return out
}
