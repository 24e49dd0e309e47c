/// A Jinja template cut into its top-level nodes, enough to recognise a known template shape; this is
/// not a Jinja engine (no evaluation, no filters, no macros).
enum JinjaNode: Equatable {
    /// Literal template text (after `{%-`/`-%}` whitespace control was applied).
    case text(String)
    /// A `{% ... %}` statement, whitespace collapsed: `for message in messages`.
    case statement(String)
    /// A `{{ ... }}` expression, as written.
    case expression(String)

    /// Cuts `template` into nodes; an unterminated tag is an error.
    static func parse(_ template: String) throws(InferenceError) -> [JinjaNode] {
        var nodes: [JinjaNode] = []
        var rest = Substring(template)
        var trimNextText = false
        while !rest.isEmpty {
            guard let open = rest.firstRange(of: "{"), let kind = rest[open.upperBound...].first,
                  kind == "%" || kind == "{" || kind == "#" else {
                nodes.append(.text(trimmed(String(rest), leading: trimNextText, trailing: false)))
                break
            }
            let close = kind == "%" ? "%}" : kind == "{" ? "}}" : "#}"
            let bodyStart = rest.index(after: open.upperBound)
            guard let end = rest[bodyStart...].firstRange(of: close) else {
                throw InferenceError(.chatTemplate, "chat template: unterminated '{\(kind)' tag")
            }
            var body = rest[bodyStart..<end.lowerBound]
            let trimBefore = body.first == "-", trimAfter = body.last == "-"
            if trimBefore { body = body.dropFirst() }
            if trimAfter { body = body.dropLast() }
            let before = String(rest[..<open.lowerBound])
            if !before.isEmpty || trimNextText {
                nodes.append(.text(trimmed(before, leading: trimNextText, trailing: trimBefore)))
            }
            let collapsed = body.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
            if kind == "%" { nodes.append(.statement(collapsed)) }
            if kind == "{" { nodes.append(.expression(String(body))) }
            trimNextText = trimAfter
            rest = rest[end.upperBound...]
        }
        return nodes.filter { $0 != .text("") }
    }

    private static func trimmed(_ text: String, leading: Bool, trailing: Bool) -> String {
        var slice = Substring(text)
        if leading { slice = slice.drop(while: { $0.isWhitespace }) }
        if trailing { while let last = slice.last, last.isWhitespace { slice = slice.dropLast() } }
        return String(slice)
    }
}

/// One term of a `{{ a + b + ... }}` concatenation.
enum JinjaTerm: Equatable {
    case literal(String)
    case role
    case content

    /// Parses `'lit' + message['role'] + "lit" + message.content ...`; anything else is an error.
    static func parseConcatenation(_ expression: String) throws(InferenceError) -> [JinjaTerm] {
        var terms: [JinjaTerm] = []
        var chars = Array(expression.unicodeScalars)[...]
        func skipSpaces() { while let c = chars.first, c == " " || c == "\n" || c == "\t" { chars = chars.dropFirst() } }
        while true {
            skipSpaces()
            guard let head = chars.first else { break }
            if head == "'" || head == "\"" {
                terms.append(.literal(try stringLiteral(&chars)))
            } else {
                let word = String(String.UnicodeScalarView(chars.prefix { !" \n\t+~".unicodeScalars.contains($0) }))
                chars = chars.dropFirst(word.unicodeScalars.count)
                switch word.normalizedJinja() {
                case "message['role']": terms.append(.role)
                case "message['content']": terms.append(.content)
                default: throw InferenceError(.chatTemplate, "chat template: unsupported expression '\(word)'")
                }
            }
            skipSpaces()
            guard let op = chars.first else { break }
            guard op == "+" || op == "~" else {
                throw InferenceError(.chatTemplate, "chat template: unsupported operator '\(op)' in '{{\(expression)}}'")
            }
            chars = chars.dropFirst()
        }
        return merged(terms)
    }

    /// A quoted Jinja string with Python escapes (`\n`, `\t`, `\\`, `\'`, `\"`).
    private static func stringLiteral(_ chars: inout ArraySlice<Unicode.Scalar>) throws(InferenceError) -> String {
        guard let quote = chars.popFirst() else { return "" }
        var out = String.UnicodeScalarView()
        while let c = chars.popFirst() {
            if c == quote { return String(out) }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard let escaped = chars.popFirst() else { break }
            switch escaped {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\", "'", "\"": out.append(escaped)
            default: throw InferenceError(.chatTemplate, "chat template: unsupported escape '\\\(escaped)' in a string")
            }
        }
        throw InferenceError(.chatTemplate, "chat template: unterminated string literal")
    }

    /// Joins adjacent literals.
    static func merged(_ terms: [JinjaTerm]) -> [JinjaTerm] {
        var out: [JinjaTerm] = []
        for term in terms {
            if case .literal(let b) = term, case .literal(let a)? = out.last {
                out[out.count - 1] = .literal(a + b)
            } else {
                out.append(term)
            }
        }
        return out
    }
}

extension String {
    /// The text with double quotes turned into single ones, spaces removed and `.role` written as
    /// `['role']`, for comparing statements written in any of Jinja's equivalent spellings.
    func normalizedJinja() -> String {
        let compact = String(unicodeScalars.compactMap { $0 == "\"" ? "'" : ($0 == " " ? nil : Character($0)) })
        return compact.replacing(".role", with: "['role']").replacing(".content", with: "['content']")
    }
}
