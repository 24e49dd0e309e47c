/// Parses the RE2-like subset the linear-time engine runs: literals, escapes, classes and ranges,
/// `.`, `* + ? {m,n}` (greedy and lazy), alternation, groups (capturing, `(?:`, named), anchors
/// `^ $ \A \z`, `\b \B`, `\d \w \s` and negations, flags `(?i) (?m) (?s)`. Backreferences and
/// lookaround need backtracking and are rejected with an error naming the construct.
struct RegexParser {
    /// Counted repetitions above this are rejected: they expand into that many program copies.
    static let maxRepeat = 1000

    let bytes: [UInt8]
    var position = 0
    var caseInsensitive = false
    var multiline = false
    var dotAll = false
    var depth = 0

    init(_ pattern: String) { bytes = Array(pattern.utf8) }

    static func parse(_ pattern: String) throws(GuardrailError) -> RegexNode {
        var parser = RegexParser(pattern)
        let node = try parser.parseAlternation()
        if parser.position < parser.bytes.count { throw GuardrailError("unbalanced ')'", at: parser.position) }
        return node
    }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[position] }

    mutating func parseAlternation() throws(GuardrailError) -> RegexNode {
        var branches = [try parseSequence()]
        while peek == UInt8(ascii: "|") {
            position += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func parseSequence() throws(GuardrailError) -> RegexNode {
        var items: [RegexNode] = []
        while let byte = peek, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            let start = position
            guard let atom = try parseAtom() else { continue }
            items.append(try parseQuantifiers(atom, start: start))
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    mutating func parseQuantifiers(_ atom: RegexNode, start: Int) throws(GuardrailError) -> RegexNode {
        var node = atom
        while let byte = peek {
            var bounds: (Int, Int?)
            switch byte {
            case UInt8(ascii: "*"): bounds = (0, nil); position += 1
            case UInt8(ascii: "+"): bounds = (1, nil); position += 1
            case UInt8(ascii: "?"): bounds = (0, 1); position += 1
            case UInt8(ascii: "{"):
                guard let counted = try parseCount() else { return node }
                bounds = counted
            default: return node
            }
            if case .assertion = node { throw GuardrailError("nothing to repeat (an anchor)", at: start) }
            var greedy = true
            if peek == UInt8(ascii: "?") { greedy = false; position += 1 }
            else if peek == UInt8(ascii: "+") { throw GuardrailError("possessive quantifiers are not supported", at: position) }
            node = .repetition(node, min: bounds.0, max: bounds.1, greedy: greedy)
        }
        return node
    }

    /// `{m}`, `{m,}`, `{m,n}`; a `{` that does not start a count is a literal (as in RE2 and PCRE).
    mutating func parseCount() throws(GuardrailError) -> (Int, Int?)? {
        let start = position
        position += 1
        guard let low = parseNumber() else { position = start; return nil }
        var high: Int? = low
        if peek == UInt8(ascii: ",") {
            position += 1
            high = parseNumber()
        }
        guard peek == UInt8(ascii: "}") else { position = start; return nil }
        position += 1
        if let high, high < low { throw GuardrailError("repetition {\(low),\(high)}: the maximum is below the minimum", at: start) }
        if low > Self.maxRepeat || (high ?? 0) > Self.maxRepeat {
            throw GuardrailError("repetition counts above \(Self.maxRepeat) are not supported", at: start)
        }
        return (low, high)
    }

    mutating func parseNumber() -> Int? {
        var value = 0, digits = 0
        while let byte = peek, byte >= 0x30, byte <= 0x39, digits < 7 {
            value = value * 10 + Int(byte - 0x30); digits += 1; position += 1
        }
        return digits == 0 ? nil : value
    }

    /// One atom, or nil for a flag group such as `(?i)` that only changes state.
    mutating func parseAtom() throws(GuardrailError) -> RegexNode? {
        let start = position
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "("): return try parseGroup(start: start)
        case UInt8(ascii: "["): return try parseClass(start: start)
        case UInt8(ascii: "."): return .utf8Char(ascii: dotAll ? Self.allASCII : Self.notNewline)
        case UInt8(ascii: "^"): return .assertion(multiline ? .lineStart : .textStart)
        case UInt8(ascii: "$"): return .assertion(multiline ? .lineEnd : .textEnd)
        case UInt8(ascii: "\\"): return try parseEscape(start: start)
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw GuardrailError("nothing to repeat", at: start)
        default:
            return literal(startingWith: byte)
        }
    }

    static let notNewline: ByteSet = { var set = ByteSet(); set.insert(0x00...0x09); set.insert(0x0B...0x7F); return set }()

    /// A literal character; a non-ASCII one is its UTF-8 byte sequence.
    mutating func literal(startingWith byte: UInt8) -> RegexNode {
        guard byte >= 0x80 else { return .bytes(caseSet(ByteSet(byte))) }
        var sequence: [RegexNode] = [.bytes(ByteSet(byte))]
        while let next = peek, next & 0xC0 == 0x80 { sequence.append(.bytes(ByteSet(next))); position += 1 }
        return .sequence(sequence)
    }

    func caseSet(_ set: ByteSet) -> ByteSet { caseInsensitive ? set.caseFolded : set }

    mutating func parseGroup(start: Int) throws(GuardrailError) -> RegexNode? {
        if peek == UInt8(ascii: "?") {
            position += 1
            guard let kind = peek else { throw GuardrailError("unterminated group", at: start) }
            switch kind {
            case UInt8(ascii: "="), UInt8(ascii: "!"):
                throw GuardrailError("lookahead is not supported (the engine runs in linear time)", at: start)
            case UInt8(ascii: "<"):
                let next = position + 1 < bytes.count ? bytes[position + 1] : 0
                if next == UInt8(ascii: "=") || next == UInt8(ascii: "!") {
                    throw GuardrailError("lookbehind is not supported (the engine runs in linear time)", at: start)
                }
                try skipGroupName(start: start)
            case UInt8(ascii: "P"):
                position += 1
                guard peek == UInt8(ascii: "<") else {
                    throw GuardrailError("backreferences are not supported (the engine runs in linear time)", at: start)
                }
                try skipGroupName(start: start)
            case UInt8(ascii: ":"): position += 1
            default:
                return try parseFlags(start: start)
            }
        }
        return try parseGroupBody(start: start)
    }

    mutating func parseGroupBody(start: Int) throws(GuardrailError) -> RegexNode {
        depth += 1
        guard depth <= 200 else { throw GuardrailError("groups nested deeper than 200", at: start) }
        let saved = (caseInsensitive, multiline, dotAll)
        let body = try parseAlternation()
        (caseInsensitive, multiline, dotAll) = saved
        depth -= 1
        guard peek == UInt8(ascii: ")") else { throw GuardrailError("missing ')'", at: start) }
        position += 1
        return body
    }

    mutating func skipGroupName(start: Int) throws(GuardrailError) {
        position += 1  // '<'
        while let byte = peek, byte != UInt8(ascii: ">") { position += 1 }
        guard peek == UInt8(ascii: ">") else { throw GuardrailError("unterminated group name", at: start) }
        position += 1
    }

    /// `(?flags)` sets flags for the rest of the enclosing group; `(?flags:...)` for the group only.
    mutating func parseFlags(start: Int) throws(GuardrailError) -> RegexNode? {
        let saved = (caseInsensitive, multiline, dotAll)
        var enable = true
        while let byte = peek {
            position += 1
            switch byte {
            case UInt8(ascii: "i"): caseInsensitive = enable
            case UInt8(ascii: "m"): multiline = enable
            case UInt8(ascii: "s"): dotAll = enable
            case UInt8(ascii: "-"): enable = false
            case UInt8(ascii: ")"): return nil
            case UInt8(ascii: ":"):
                defer { (caseInsensitive, multiline, dotAll) = saved }
                return try parseGroupBody(start: start)
            default:
                throw GuardrailError("unknown group flag '\(Character(Unicode.Scalar(byte)))' (supported: i, m, s)", at: position - 1)
            }
        }
        throw GuardrailError("unterminated group", at: start)
    }
}
