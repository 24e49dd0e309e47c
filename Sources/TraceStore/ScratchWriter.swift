/// Writes short runs of bytes (field names, hex ids, decimal numbers) into scratch memory with no
/// per-write uniqueness or capacity checks, so that a record's fixed fields reach the encoder's
/// array in one `append` instead of a dozen. Callers size the scratch for the most they write.
struct ScratchWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// What was written so far.
    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: buffer[0..<count]) }

    mutating func raw(_ text: StaticString) {
        let source = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        _ = UnsafeMutableBufferPointer(rebasing: buffer[count..<(count + source.count)]).initialize(from: source)
        count += source.count
    }

    /// Lowercase hex of `bytes` as a JSON string.
    mutating func hexQuoted(_ bytes: UnsafeRawBufferPointer) {
        let digits: StaticString = "0123456789abcdef"
        let hex = digits.utf8Start
        buffer[count] = UInt8(ascii: "\"")
        var at = count + 1
        for byte in bytes {
            buffer[at] = hex[Int(byte >> 4)]
            buffer[at + 1] = hex[Int(byte & 0xF)]
            at += 2
        }
        buffer[at] = UInt8(ascii: "\"")
        count = at + 1
    }

    /// A non-negative integer in decimal (at most 20 bytes), two digits per division: record
    /// timestamps have 19 digits.
    mutating func unsigned(_ value: UInt64) {
        let pairs = Self.pairs.utf8Start
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20 && value >= bound { digits += 1; bound &*= 10 }  // compares, not divisions
        var at = count + digits
        var rest = value
        while rest >= 100 {
            let pair = Int(rest % 100) * 2
            rest /= 100
            at -= 2
            buffer[at] = pairs[pair]
            buffer[at + 1] = pairs[pair + 1]
        }
        if rest >= 10 {
            buffer[at - 2] = pairs[Int(rest) * 2]
            buffer[at - 1] = pairs[Int(rest) * 2 + 1]
        } else {
            buffer[at - 1] = UInt8(ascii: "0") + UInt8(rest)
        }
        count += digits
    }

    /// "00" through "99", back to back.
    private static let pairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """
}
