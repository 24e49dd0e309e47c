/// Character classes and escapes of `LinearPattern`.
extension PatternParser {
    static let digits: [ClosedRange<UInt32>] = [48...57]
    static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    static let space: [ClosedRange<UInt32>] = [9...13, 32...32, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
                                                0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF]

    /// After a backslash.
    mutating func escape(inClass: Bool) throws(Failure) -> LinearPattern.Test {
        guard let c = peek else { throw fail("trailing backslash") }
        index += 1
        switch c {
        case "d": return .set(Self.digits, negated: false)
        case "D": return .set(Self.digits, negated: true)
        case "w": return .set(Self.word, negated: false)
        case "W": return .set(Self.word, negated: true)
        case "s": return .set(Self.space, negated: false)
        case "S": return .set(Self.space, negated: true)
        case "n": return .scalar("\n")
        case "r": return .scalar("\r")
        case "t": return .scalar("\t")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "0": return .scalar("\u{0}")
        case "b" where inClass: return .scalar("\u{08}")
        default:
            if c.isASCII && (c.properties.isAlphabetic || c.properties.numericType != nil) {
                throw fail("\\\(c) is not supported (backreferences, \\b and other escapes are outside the linear-time subset)")
            }
            return .scalar(c)
        }
    }

    /// After `[`: ranges, single characters and class escapes, up to `]`.
    mutating func characterClass() throws(Failure) -> LinearPattern.Test {
        var negated = false
        if peek == "^" { negated = true; index += 1 }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let c = peek else { throw fail("missing ']'") }
            if c == "]" && !first { index += 1; break }
            first = false
            let low = try classMember()
            guard case .scalar(let lowScalar) = low else {
                if case .set(let set, let setNegated) = low {
                    guard !setNegated else { throw fail("negated class escapes inside [...] are not supported") }
                    ranges += set
                }
                continue
            }
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                guard case .scalar(let highScalar) = try classMember() else { throw fail("a range cannot end in a class") }
                guard lowScalar.value <= highScalar.value else { throw fail("range out of order") }
                ranges.append(lowScalar.value...highScalar.value)
            } else {
                ranges.append(lowScalar.value...lowScalar.value)
            }
        }
        return .set(ranges, negated: negated)
    }

    mutating func classMember() throws(Failure) -> LinearPattern.Test {
        guard let c = peek else { throw fail("missing ']'") }
        index += 1
        return c == "\\" ? try escape(inClass: true) : .scalar(c)
    }
}
