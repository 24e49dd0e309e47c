import Guardrails
import Inference
import Specs

/// Turns an OpenAI conversation into template turns: tools and `response_format` become a system
/// turn, calls and results use the Hermes convention (ToolCallFormat), and every message is checked
/// by the input guardrails first (tool results included: injections arrive there).
struct ChatPromptBuilder {
    let request: ChatCompletionRequest
    let pipeline: GuardrailPipeline

    /// The instruction for `response_format: json_object`. The output is then checked to parse
    /// (ChatCompletions.jsonContent): the model is asked, and what it answers is verified, since
    /// nothing here constrains decoding.
    static let jsonInstruction = "Answer with one JSON object only: no text before or after it, no code fences."

    /// The template turns, after the input guardrails; a block throws `.guardrailBlocked`.
    func messages(decisions: inout [GuardrailVerdict]) throws(BrokerError) -> [ChatMessage] {
        var turns: [ChatMessage] = []
        for (index, message) in request.messages.enumerated() {
            var content = try checked(message.content, decisions: &decisions, param: "$.messages[\(index)].content")
            var role = message.role == "developer" ? "system" : message.role
            if !message.toolCalls.isEmpty {
                var calls = message.toolCalls
                for (n, call) in calls.enumerated() {
                    calls[n].arguments = try checked(call.arguments, decisions: &decisions,
                                                     param: "$.messages[\(index)].tool_calls[\(n)].function.arguments")
                }
                content += (content.isEmpty ? "" : "\n") + ToolCallFormat.render(calls)
            }
            if role == "tool" { content = "<tool_response>\n\(content)\n</tool_response>"; role = "tool" }
            turns.append(ChatMessage(role: role, content: content))
        }
        var system: [String] = []
        if let tools = ToolCallFormat.systemPrompt(tools: request.tools, choice: request.toolChoice) { system.append(tools) }
        if request.jsonObject { system.append(Self.jsonInstruction) }
        if !system.isEmpty {
            if let first = turns.first, first.role == "system" {
                turns[0].content = first.content + "\n\n" + system.joined(separator: "\n\n")
            } else {
                turns.insert(ChatMessage(role: "system", content: system.joined(separator: "\n\n")), at: 0)
            }
        }
        return turns
    }

    /// `text` after the input stage: unchanged, redacted, or a thrown block.
    private func checked(_ text: String, decisions: inout [GuardrailVerdict], param: String) throws(BrokerError) -> String {
        if text.isEmpty { return text }
        let verdict = pipeline.check(text, stage: .modelInput)
        if !verdict.findings.isEmpty || verdict.action != .passed { decisions.append(verdict) }
        switch verdict.action {
        case .blocked:
            var error = BrokerError(.guardrailBlocked, "blocked by the input guardrail: \(verdict.reason ?? "policy violation")")
            error.param = param
            throw error
        case .redacted: return verdict.text
        case .passed, .flagged: return text
        }
    }
}
