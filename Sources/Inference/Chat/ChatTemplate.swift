/// A ChatML-style chat template, recognised from the model's Jinja `tokenizer.chat_template` and
/// rendered without a Jinja engine.
///
/// The shape recognised (SmolLM2's template, and the plain ChatML ones that differ only in literals):
///
///     {% for message in messages %}
///       [{% if loop.first and messages[0]['role'] != 'system' %}{{ DEFAULT_SYSTEM_TURN }}{% endif %}]
///       {{ PREFIX + message['role'] + SEPARATOR + message['content'] + SUFFIX }}
///     {% endfor %}
///     {% if add_generation_prompt %}{{ PREFIX + 'assistant' + SEPARATOR }}{% endif %}
///
/// Any other template (tool-call blocks, conditionals on roles, filters) is refused with an error
/// that says so, rather than rendered wrongly.
public struct ChatTemplate: Equatable, Sendable {
    /// Text before the role of every turn (`<|im_start|>`).
    public var turnPrefix: String
    /// Text between the role and the content (`\n`).
    public var roleSeparator: String
    /// Text after the content (`<|im_end|>\n`).
    public var turnSuffix: String
    /// The system turn's content inserted when the first message is not a system message, if any.
    public var defaultSystemPrompt: String?
    /// Whether the template opens an assistant turn when asked to (`add_generation_prompt`).
    public var hasGenerationPrompt: Bool

    /// Makes a ChatML template from its parts.
    public init(turnPrefix: String = "<|im_start|>", roleSeparator: String = "\n", turnSuffix: String = "<|im_end|>\n",
                defaultSystemPrompt: String? = nil, hasGenerationPrompt: Bool = true) {
        self.turnPrefix = turnPrefix
        self.roleSeparator = roleSeparator
        self.turnSuffix = turnSuffix
        self.defaultSystemPrompt = defaultSystemPrompt
        self.hasGenerationPrompt = hasGenerationPrompt
    }

    /// Recognises a Jinja chat template, or explains why it is not supported.
    public init(jinja: String) throws(InferenceError) {
        var nodes = try JinjaNode.parse(jinja)[...]
        func unsupported(_ why: String) -> InferenceError {
            InferenceError(.chatTemplate, "chat template not supported (only ChatML-style templates are): \(why)")
        }
        func take(_ statement: String) -> Bool {
            guard case .statement(let s)? = nodes.first, s.normalizedJinja() == statement.normalizedJinja()
            else { return false }
            nodes = nodes.dropFirst()
            return true
        }
        func takeExpression() throws(InferenceError) -> [JinjaTerm] {
            guard case .expression(let e)? = nodes.first else { throw unsupported("expected a {{ ... }} expression") }
            nodes = nodes.dropFirst()
            return try JinjaTerm.parseConcatenation(e)
        }
        nodes = nodes.filter { if case .text(let t) = $0 { !t.allSatisfy(\.isWhitespace) } else { true } }[...]
        guard take("for message in messages") else { throw unsupported("it does not start with 'for message in messages'") }
        var defaultTurn: String?
        if take("if loop.first and messages[0]['role'] != 'system'") {
            let terms = try takeExpression()
            guard terms.count == 1, case .literal(let text) = terms[0], take("endif") else {
                throw unsupported("the default system block is not a single string")
            }
            defaultTurn = text
        }
        let turn = try takeExpression()
        guard turn.count == 5, case .literal(let prefix) = turn[0], turn[1] == .role, case .literal(let separator) = turn[2],
              turn[3] == .content, case .literal(let suffix) = turn[4]
        else { throw unsupported("the turn is not PREFIX + role + SEPARATOR + content + SUFFIX") }
        guard take("endfor") else { throw unsupported("expected 'endfor' after the turn") }
        self.init(turnPrefix: prefix, roleSeparator: separator, turnSuffix: suffix, hasGenerationPrompt: false)
        if let defaultTurn {
            let head = prefix + "system" + separator
            guard defaultTurn.hasPrefix(head), defaultTurn.hasSuffix(suffix), defaultTurn.count >= head.count + suffix.count
            else { throw unsupported("the default system turn does not use the turn's own format") }
            defaultSystemPrompt = String(defaultTurn.dropFirst(head.count).dropLast(suffix.count))
        }
        if take("if add_generation_prompt") {
            let terms = try takeExpression()
            guard terms.count == 1, case .literal(let opening) = terms[0], take("endif"),
                  opening == prefix + "assistant" + separator else {
                throw unsupported("the generation prompt is not PREFIX + 'assistant' + SEPARATOR")
            }
            hasGenerationPrompt = true
        }
        if let extra = nodes.first { throw unsupported("unexpected \(extra) after the message loop") }
    }
}
