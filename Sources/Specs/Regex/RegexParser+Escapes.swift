/// Escapes and bracket classes.
extension RegexParser {
    static let allASCII = ByteSet(words: (~0, ~0, 0, 0))

    /// What an escape stands for: a byte set (possibly negated, i.e. "any character but"), or an assertion.
    enum Escape {
        case set(ByteSet, negated: Bool)
        case assertion(RegexAssertion)
    }

    mutating func parseEscape(start: Int) throws(RegexError) -> RegexNode {
        switch try escape(start: start, inClass: false) {
        case .assertion(let assertion): return .assertion(assertion)
        case .set(let set, let negated):
            return negated ? .utf8Char(ascii: set.asciiComplement) : .bytes(caseSet(set))
        }
    }

    mutating func escape(start: Int, inClass: Bool) throws(RegexError) -> Escape {
        guard let byte = peek else { throw RegexError("trailing backslash", at: start) }
        position += 1
        switch byte {
        case UInt8(ascii: "d"): return .set(.digits, negated: false)
        case UInt8(ascii: "D"): return .set(.digits, negated: true)
        case UInt8(ascii: "w"): return .set(.word, negated: false)
        case UInt8(ascii: "W"): return .set(.word, negated: true)
        case UInt8(ascii: "s"): return .set(.space, negated: false)
        case UInt8(ascii: "S"): return .set(.space, negated: true)
        case UInt8(ascii: "n"): return .set(ByteSet(0x0A), negated: false)
        case UInt8(ascii: "t"): return .set(ByteSet(0x09), negated: false)
        case UInt8(ascii: "r"): return .set(ByteSet(0x0D), negated: false)
        case UInt8(ascii: "f"): return .set(ByteSet(0x0C), negated: false)
        case UInt8(ascii: "v"): return .set(ByteSet(0x0B), negated: false)
        case UInt8(ascii: "x"): return .set(ByteSet(try hexByte(start: start)), negated: false)
        case UInt8(ascii: "0"): return .set(ByteSet(0x00), negated: false)
        case UInt8(ascii: "b") where !inClass: return .assertion(.wordBoundary)
        case UInt8(ascii: "b"): return .set(ByteSet(0x08), negated: false)  // [\b] is backspace (ECMA-262, PCRE)
        case UInt8(ascii: "B") where !inClass: return .assertion(.notWordBoundary)
        case UInt8(ascii: "A") where !inClass: return .assertion(.textStart)
        case UInt8(ascii: "z") where !inClass: return .assertion(.textEnd)
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"):
            throw RegexError("backreferences are not supported (the engine runs in linear time)", at: start)
        default:
            // Any other ASCII punctuation stands for itself; an unknown letter escape is an error so
            // that a PCRE-only escape (\p, \h, \K ...) is not silently read as a literal.
            let isAlnum = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39
            guard byte < 0x80, !isAlnum else {
                throw RegexError("unsupported escape '\\\(Character(Unicode.Scalar(byte)))'", at: start)
            }
            return .set(ByteSet(byte), negated: false)
        }
    }

    mutating func hexByte(start: Int) throws(RegexError) -> UInt8 {
        var value: UInt8 = 0
        for _ in 0..<2 {
            guard let byte = peek, let digit = Self.hexValue(byte) else {
                throw RegexError("\\x needs two hex digits", at: start)
            }
            value = value << 4 | digit
            position += 1
        }
        guard value < 0x80 else { throw RegexError("\\x escapes above \\x7F are not supported (write the character)", at: start) }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }

    /// `[...]` with ranges, escapes and negation. ASCII members form a byte set; non-ASCII members
    /// (`[à-ÿ]`, `[^/é]`) compile to UTF-8 sequences. Case folding (`(?i)`) covers ASCII letters only.
    mutating func parseClass(start: Int) throws(RegexError) -> RegexNode {
        var negated = false
        if peek == UInt8(ascii: "^") { negated = true; position += 1 }
        var set = ByteSet()
        var wide = ScalarRanges()
        var first = true
        while true {
            guard let byte = peek else { throw RegexError("missing ']'", at: start) }
            if byte == UInt8(ascii: "]") && !first { position += 1; break }
            first = false
            let itemStart = position
            guard let low = try classMember(start: start, into: &set, wide: &wide) else { continue }
            var high = low
            if peek == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                position += 1
                var ignored = ByteSet(), ignoredWide = ScalarRanges()
                guard let end = try classMember(start: start, into: &ignored, wide: &ignoredWide) else {
                    throw RegexError("a class range must end in a single character", at: itemStart)
                }
                guard low <= end else { throw RegexError("class range out of order", at: itemStart) }
                high = end
            }
            if low < 0x80 { set.insert(UInt8(low)...UInt8(min(high, 0x7F))) }
            wide.insert(low...high)
        }
        return Self.classNode(caseSet(set), wide: wide, negated: negated)
    }

    /// One character from the class: any ASCII byte in `ascii`, or a non-ASCII scalar in `wide`
    /// (complemented over all characters when `negated`).
    static func classNode(_ ascii: ByteSet, wide: ScalarRanges, negated: Bool) -> RegexNode {
        if wide.isEmpty { return negated ? .utf8Char(ascii: ascii.asciiComplement) : .bytes(ascii) }
        let asciiPart = negated ? ascii.asciiComplement : ascii
        let branches = (asciiPart.isEmpty ? [] : [.bytes(asciiPart)]) + (negated ? wide.complement : wide).nodes
        switch branches.count {
        case 0: return .bytes(ByteSet())  // a class that admits nothing never matches
        case 1: return branches[0]
        default: return .alternation(branches)
        }
    }

    /// One class member: returns the scalar for a single character (a possible range end), or adds
    /// a shorthand class (`\d`, `\W`) to `set`/`wide` and returns nil.
    mutating func classMember(start: Int, into set: inout ByteSet, wide: inout ScalarRanges) throws(RegexError) -> UInt32? {
        let byte = bytes[position]
        if byte >= 0x80 { return scalar() }
        position += 1
        if byte == UInt8(ascii: "["), peek == UInt8(ascii: ":") {
            throw RegexError("POSIX classes ([:alpha:]) are not supported; use \\w, \\d, \\s or ranges", at: position - 1)
        }
        guard byte == UInt8(ascii: "\\") else { return UInt32(byte) }
        switch try escape(start: position - 1, inClass: true) {
        case .assertion: throw RegexError("an assertion cannot appear in a class", at: position - 2)
        case .set(let member, let negatedMember):
            if negatedMember {
                set.formUnion(member.asciiComplement)
                wide.insert(0x80...ScalarRanges.maxScalar)
                return nil
            }
            if let single = member.single { return UInt32(single) }
            set.formUnion(member)
            return nil
        }
    }

    /// Decodes the non-ASCII character at `position` (the pattern came from a `String`, so it is
    /// well-formed UTF-8) and moves past it.
    mutating func scalar() -> UInt32 {
        let lead = bytes[position]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var value = UInt32(lead) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
        position += 1
        for _ in 1..<length where position < bytes.count {
            value = value << 6 | UInt32(bytes[position] & 0x3F)
            position += 1
        }
        return value
    }
}

extension ByteSet {
    /// The only member, when the set has exactly one.
    var single: UInt8? {
        var found: UInt8?
        for byte in 0...255 where contains(UInt8(byte)) {
            if found != nil { return nil }
            found = UInt8(byte)
        }
        return found
    }
}
