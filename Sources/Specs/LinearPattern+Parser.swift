/// The recursive-descent parser of `LinearPattern`'s syntax (alternation < sequence < repetition < atom).
struct PatternParser {
    typealias Failure = LinearPattern.SyntaxError
    let scalars: [Unicode.Scalar]
    var index = 0
    var depth = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    func fail(_ message: String) -> Failure { Failure(message: "\(message) at offset \(index)") }

    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func parse() throws(Failure) -> PatternNode {
        let node = try alternatives()
        if index < scalars.count { throw fail("unbalanced ')'") }
        return node
    }

    mutating func alternatives() throws(Failure) -> PatternNode {
        var choices = [try sequence()]
        while peek == "|" { index += 1; choices.append(try sequence()) }
        return choices.count == 1 ? choices[0] : .alternatives(choices)
    }

    mutating func sequence() throws(Failure) -> PatternNode {
        var nodes: [PatternNode] = []
        while let c = peek, c != "|", c != ")" {
            nodes.append(try repetition())
        }
        return nodes.isEmpty ? .empty : nodes.count == 1 ? nodes[0] : .sequence(nodes)
    }

    mutating func repetition() throws(Failure) -> PatternNode {
        var node = try atom()
        while let c = peek {
            let bounds: (Int, Int?)
            switch c {
            case "*": index += 1; bounds = (0, nil)
            case "+": index += 1; bounds = (1, nil)
            case "?": index += 1; bounds = (0, 1)
            case "{":
                guard let counted = try braces() else { return node }
                bounds = counted
            default: return node
            }
            if case .start = node { throw fail("nothing to repeat") }
            if case .end = node { throw fail("nothing to repeat") }
            if peek == "?" { index += 1 }  // lazy: same language
            node = .repeated(node, min: bounds.0, max: bounds.1)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when the brace is a literal.
    mutating func braces() throws(Failure) -> (Int, Int?)? {
        let start = index
        index += 1
        let low = number()
        guard let low else { index = start; return nil }
        var high: Int? = low
        if peek == "," { index += 1; high = number() }
        guard peek == "}" else { index = start; return nil }
        index += 1
        if let high, high < low { throw fail("{\(low),\(high)}: the maximum is below the minimum") }
        if low > 1000 || (high ?? 0) > 1000 { throw fail("repetition counts above 1000 are not supported") }
        return (low, high)
    }

    mutating func number() -> Int? {
        var value = 0, digits = 0
        while let c = peek, let digit = Int(String(c)), c.isASCII, digits < 6 { value = value * 10 + digit; digits += 1; index += 1 }
        return digits > 0 ? value : nil
    }

    mutating func atom() throws(Failure) -> PatternNode {
        guard let c = peek else { throw fail("unexpected end") }
        index += 1
        switch c {
        case "(": return try group()
        case "[": return .test(try characterClass())
        case ".": return .test(.any)
        case "^": return .start
        case "$": return .end
        case "\\": return .test(try escape(inClass: false))
        case "*", "+", "?": throw fail("nothing to repeat")
        default: return .test(.scalar(c))
        }
    }

    mutating func group() throws(Failure) -> PatternNode {
        if peek == "?" {
            guard index + 1 < scalars.count, scalars[index + 1] == ":" else {
                throw fail("lookaround and named groups are not supported (linear-time subset)")
            }
            index += 2
        }
        depth += 1
        guard depth <= 64 else { throw fail("groups nested too deeply") }
        let node = try alternatives()
        depth -= 1
        guard peek == ")" else { throw fail("missing ')'") }
        index += 1
        return node
    }
}
