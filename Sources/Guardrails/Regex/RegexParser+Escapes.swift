/// Escapes and bracket classes.
extension RegexParser {
    static let allASCII = ByteSet(words: (~0, ~0, 0, 0))

    /// What an escape stands for: a byte set (possibly negated, i.e. "any character but"), or an assertion.
    enum Escape {
        case set(ByteSet, negated: Bool)
        case assertion(RegexAssertion)
    }

    mutating func parseEscape(start: Int) throws(GuardrailError) -> RegexNode {
        switch try escape(start: start, inClass: false) {
        case .assertion(let assertion): return .assertion(assertion)
        case .set(let set, let negated):
            return negated ? .utf8Char(ascii: set.asciiComplement) : .bytes(caseSet(set))
        }
    }

    mutating func escape(start: Int, inClass: Bool) throws(GuardrailError) -> Escape {
        guard let byte = peek else { throw GuardrailError("trailing backslash", at: start) }
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
        case UInt8(ascii: "b") where !inClass: return .assertion(.wordBoundary)
        case UInt8(ascii: "B") where !inClass: return .assertion(.notWordBoundary)
        case UInt8(ascii: "A") where !inClass: return .assertion(.textStart)
        case UInt8(ascii: "z") where !inClass: return .assertion(.textEnd)
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"):
            throw GuardrailError("backreferences are not supported (the engine runs in linear time)", at: start)
        default:
            // Any other ASCII punctuation stands for itself; an unknown letter escape is an error so
            // that a PCRE-only escape (\p, \h, \K ...) is not silently read as a literal.
            let isAlnum = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39
            guard byte < 0x80, !isAlnum else {
                throw GuardrailError("unsupported escape '\\\(Character(Unicode.Scalar(byte)))'", at: start)
            }
            return .set(ByteSet(byte), negated: false)
        }
    }

    mutating func hexByte(start: Int) throws(GuardrailError) -> UInt8 {
        var value: UInt8 = 0
        for _ in 0..<2 {
            guard let byte = peek, let digit = Self.hexValue(byte) else {
                throw GuardrailError("\\x needs two hex digits", at: start)
            }
            value = value << 4 | digit
            position += 1
        }
        guard value < 0x80 else { throw GuardrailError("\\x escapes above \\x7F are not supported (write the character)", at: start) }
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

    /// `[...]` with ranges, escapes and negation. Members are ASCII: a class of non-ASCII characters
    /// would need UTF-8 range compilation, which deny lists have not needed (use alternation).
    mutating func parseClass(start: Int) throws(GuardrailError) -> RegexNode {
        var negated = false
        if peek == UInt8(ascii: "^") { negated = true; position += 1 }
        var set = ByteSet()
        var first = true
        while true {
            guard let byte = peek else { throw GuardrailError("missing ']'", at: start) }
            if byte == UInt8(ascii: "]") && !first { position += 1; break }
            first = false
            let itemStart = position
            let low = try classMember(start: start, into: &set)
            guard let low else { continue }
            if peek == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                position += 1
                var ignored = ByteSet()
                guard let high = try classMember(start: start, into: &ignored) else {
                    throw GuardrailError("a class range must end in a single character", at: itemStart)
                }
                guard low <= high else { throw GuardrailError("class range out of order", at: itemStart) }
                set.insert(low...high)
            } else {
                set.insert(low)
            }
        }
        set = caseSet(set)
        return negated ? .utf8Char(ascii: set.asciiComplement) : .bytes(set)
    }

    /// One class member: returns the byte for a single character (a possible range end), or adds a
    /// shorthand class (`\d`) to `set` and returns nil.
    mutating func classMember(start: Int, into set: inout ByteSet) throws(GuardrailError) -> UInt8? {
        let byte = bytes[position]
        position += 1
        if byte >= 0x80 { throw GuardrailError("non-ASCII characters in a class are not supported; use alternation", at: position - 1) }
        if byte == UInt8(ascii: "["), peek == UInt8(ascii: ":") {
            throw GuardrailError("POSIX classes ([:alpha:]) are not supported; use \\w, \\d, \\s or ranges", at: position - 1)
        }
        guard byte == UInt8(ascii: "\\") else { return byte }
        switch try escape(start: position - 1, inClass: true) {
        case .assertion: throw GuardrailError("an assertion cannot appear in a class", at: position - 2)
        case .set(let member, let negatedMember):
            let members = negatedMember ? member.asciiComplement : member
            if !negatedMember, let single = members.single { return single }
            set.formUnion(members)
            return nil
        }
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
