import Glibc

/// One kind of check over UTF-8 bytes. Detectors are stateless after construction, so one
/// pipeline serves every request of an agent concurrently.
public protocol Detector: Sendable {
    /// The detector's name in findings: `secrets`, `pii`, `injection`, `denylist`, `size`.
    var name: String { get }
    /// The longest match in bytes any rule can produce: a stream holds back this much.
    var maxMatchBytes: Int { get }
    /// Findings in `text[from...]`; bytes before `from` are context only (word boundaries,
    /// context words). `final` is false while streaming, when the text may continue.
    func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding]
    /// The earliest offset where a match might still be in progress at the end of `text` (a stream
    /// releases nothing from there on). The default holds back `maxMatchBytes`.
    func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int
}

extension Detector {
    public func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int { max(0, text.count - maxMatchBytes) }

    /// Scans a string (tests, tools).
    public func scan(_ text: String) throws(GuardrailError) -> [Finding] {
        var bytes = Array(text.utf8)
        let result = bytes.withUnsafeMutableBufferPointer { buffer -> Result<[Finding], GuardrailError> in
            do throws(GuardrailError) { return .success(try scan(UnsafeBufferPointer(buffer), from: 0, final: true)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Byte classes and small numeric helpers the scanners share; tables, so a class test is one load.
enum Bytes {
    static let alnumTable: [Bool] = (0..<256).map { isAlnum(UInt8($0)) }
    static let tokenTable: [Bool] = (0..<256).map { isAlnum(UInt8($0)) || $0 == 0x5F || $0 == 0x2D }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }
    @inline(__always) static func isUpper(_ byte: UInt8) -> Bool { byte &- 0x41 < 26 }
    @inline(__always) static func isLower(_ byte: UInt8) -> Bool { byte &- 0x61 < 26 }
    @inline(__always) static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || isAlpha(byte) }
    @inline(__always) static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20) &- 0x61 < 6 }
    @inline(__always) static func isWord(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == 0x5F }
    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte &- 0x09 < 5 }
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 { isUpper(byte) ? byte | 0x20 : byte }

    /// Shannon entropy in bits per byte of `text[range]`.
    static func entropy(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double {
        guard !range.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        for index in range { counts[Int(text[index])] += 1 }
        let total = Double(range.count)
        var bits = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / total
            bits -= p * log2(p)
        }
        return bits
    }

    /// The end of the run of bytes satisfying `accept` starting at `start`, at most `limit` long.
    @inline(__always) static func run(_ text: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int = Int.max,
                                      _ accept: (UInt8) -> Bool) -> Int {
        var end = start
        let stop = start + min(limit, text.count - start)
        while end < stop, accept(text[end]) { end += 1 }
        return end
    }

    /// True when `text` at `offset` starts with the ASCII `literal` (exact case).
    @inline(__always) static func hasPrefix(_ text: UnsafeBufferPointer<UInt8>, at offset: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset >= 0, offset + count <= text.count else { return false }
        let pointer = literal.utf8Start
        for index in 0..<count where text[offset + index] != pointer[index] { return false }
        return true
    }

    /// True when `text` at `offset` starts with `literal` ignoring ASCII case (`literal` lowercase).
    static func hasPrefixFolded(_ text: UnsafeBufferPointer<UInt8>, at offset: Int, _ literal: [UInt8]) -> Bool {
        guard offset >= 0, offset + literal.count <= text.count else { return false }
        for index in 0..<literal.count where lower(text[offset + index]) != literal[index] { return false }
        return true
    }
}
