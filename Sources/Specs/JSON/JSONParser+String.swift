/// String scanning: a fast path for runs of plain ASCII, full UTF-8 validation for the rest, and
/// escape decoding with surrogate-pair checking.
extension ByteParser {
    mutating func parseString() throws(JSONError) -> String {
        let start = index
        index += 1
        // Fast path: no escapes; validate and slice.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.controlCharacter, "raw control character \(describe(byte)) in a string (write it as an escape)") }
            if byte < 0x80 { index += 1 } else { try skipUTF8Sequence() }
        }
        guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in a string", at: index) }
        // Slow path: copy what was scanned, then decode escapes.
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[(start + 1)..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try decodeEscape(into: &buffer)
            case 0..<0x20:
                throw fail(.controlCharacter, "raw control character \(describe(byte)) in a string (write it as an escape)")
            case 0x20..<0x80:
                buffer.append(byte); index += 1
            default:
                let begin = index
                try skipUTF8Sequence()
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[begin..<index]))
            }
        }
        throw fail(.unexpectedEnd, "unexpected end of input in a string")
    }

    /// Advances over one well-formed multi-byte UTF-8 sequence (Unicode Table 3-7) or throws.
    mutating func skipUTF8Sequence() throws(JSONError) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail(.invalidUTF8, "invalid UTF-8 byte 0x\(String(lead, radix: 16))")
        }
        guard bytes.count - index >= length else { throw fail(.invalidUTF8, "truncated UTF-8 sequence") }
        for k in 1..<length {
            let byte = bytes[index + k]
            let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= lo && byte <= hi else { throw fail(.invalidUTF8, "invalid UTF-8 sequence") }
        }
        index += length
    }

    mutating func decodeEscape(into buffer: inout [UInt8]) throws(JSONError) {
        let start = index
        guard index + 1 < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in an escape") }
        let letter = bytes[index + 1]
        index += 2
        switch letter {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xDC00...0xDFFF).contains(scalar) { throw fail(.loneSurrogate, "lone low surrogate in \\u escape", at: start) }
            if (0xD800...0xDBFF).contains(scalar) {
                guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail(.loneSurrogate, "high surrogate in \\u escape is not followed by a low surrogate", at: start)
                }
                index += 2
                let low = UInt32(try hex4())
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw fail(.loneSurrogate, "high surrogate in \\u escape is not followed by a low surrogate", at: start)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape, "invalid \\u escape", at: start) }
            appendUTF8(unicode.value, to: &buffer)
        default:
            throw fail(.invalidEscape, "invalid escape '\\\(Character(Unicode.Scalar(letter)))'", at: start)
        }
    }

    func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6)); buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12)); buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18)); buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F)); buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    mutating func hex4() throws(JSONError) -> UInt16 {
        guard bytes.count - index >= 4 else { throw fail(.unexpectedEnd, "unexpected end of input in a \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape, "\\u escape needs four hex digits")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
