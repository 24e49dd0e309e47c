import Guardrails
import Specs
import TraceStore

/// One tool call through the broker, in order: lookup (unknown or unallowed: a protocol error),
/// admission (rate limits, budget, concurrency), argument validation (the tool's schema, the
/// rule's schema), the tool_call guardrails, the tool itself, the tool_result guardrails, and a
/// trace span holding the arguments and result as the tool and the agent saw them (redacted).
/// Every refusal after lookup is a result with `isError: true` and the reason, as MCP asks, so
/// the model can correct itself.
public enum ToolInvocation {
    /// Why a call could not even be attempted (JSON-RPC -32602).
    public struct UnknownTool: Error, Sendable {
        public let name: String
        public var message: String { "unknown tool: \(name)" }
    }

    /// Runs the call on the calling thread (it may block: call it off the event loop).
    public static func run(_ name: String, arguments: JSONObject, callID: String, registry: ToolRegistry,
                           endpoint: AgentEndpoint) -> Result<ToolResult, UnknownTool> {
        guard let entry = registry.entry(named: name) else { return .failure(UnknownTool(name: name)) }
        let start = TraceStore.TraceClock.wallNanoseconds()
        var record = Record(tool: name, callID: callID, start: start, arguments: JSONWriter.compact(.object(arguments)))
        let ticket: Admission.Ticket
        do { ticket = try endpoint.admission.admit(.tool) } catch {
            let decision = error.code == .budgetExhausted ? "over_budget"
                : [.rateLimited, .tooManyConcurrent].contains(error.code) ? "rate_limited" : "denied"
            var result = ToolResult.denial(error.message)
            if let wait = error.retryAfterMilliseconds { result.text += " (retry after \(wait) ms)" }
            return .success(record.finish(result, decision: decision, endpoint: endpoint))
        }
        defer { endpoint.admission.settle(ticket, usedTokens: 0) }
        var callArguments = arguments
        if let problem = entry.tool.schema.violation(of: .object(arguments)) ?? entry.rule.arguments?.violation(of: .object(arguments)) {
            return .success(record.finish(.denial("invalid arguments: \(problem)"), decision: "denied", endpoint: endpoint))
        }
        let verdict = endpoint.guardrails.check(record.arguments, stage: .toolArguments)
        record.note(verdict, stage: .toolArguments)
        switch verdict.action {
        case .blocked:
            let reason = verdict.reason ?? "the arguments were blocked by a guardrail"
            return .success(record.finish(.denial("blocked: \(reason)"), decision: "blocked", endpoint: endpoint))
        case .redacted:
            guard case .object(let redacted)? = try? JSONParser.parse(verdict.text) else {
                return .success(record.finish(.denial("blocked: the arguments carried redacted content"), decision: "blocked", endpoint: endpoint))
            }
            callArguments = redacted
            record.arguments = verdict.text
        case .passed, .flagged:
            break
        }
        let result = screen(entry.tool.call(callArguments, rule: entry.rule), record: &record, endpoint: endpoint)
        return .success(record.finish(result, decision: result.denied ? "denied" : "allowed", endpoint: endpoint))
    }

    /// The tool_result guardrails: on the text, and separately on the structured content (which
    /// is dropped if it does not pass, so it cannot carry what the text had redacted).
    static func screen(_ result: ToolResult, record: inout Record, endpoint: AgentEndpoint) -> ToolResult {
        var result = result
        let verdict = endpoint.guardrails.check(result.text, stage: .toolResult)
        record.note(verdict, stage: .toolResult)
        switch verdict.action {
        case .blocked:
            return ToolResult(text: "blocked: \(verdict.reason ?? "the tool's result was blocked by a guardrail")",
                              isError: true, denied: true)
        case .redacted:
            result.text = verdict.text
        case .passed, .flagged:
            break
        }
        if let structured = result.structured {
            let check = endpoint.guardrails.check(JSONWriter.compact(.object(structured)), stage: .toolResult)
            if check.action == .blocked || check.action == .redacted { result.structured = nil }
        }
        return result
    }

    /// The trace span of one call, filled in as the call goes.
    struct Record {
        let tool: String
        let callID: String
        let start: UInt64
        var arguments: String
        var decisions: [GuardrailDecision] = []

        init(tool: String, callID: String, start: UInt64, arguments: String) {
            self.tool = tool; self.callID = callID; self.start = start; self.arguments = arguments
        }

        /// Keeps a guardrail verdict that found something, for the trace.
        mutating func note(_ verdict: GuardrailVerdict, stage: GuardrailStage) {
            guard let first = verdict.findings.first else { return }
            decisions.append(GuardrailDecision(guardrail: first.detector, target: stage.rawValue, verdict: verdict.verdict,
                                               action: verdict.action.rawValue, rule: first.rule, reason: verdict.reason))
        }

        /// Writes the span (and its guardrail decisions) and hands the result back.
        func finish(_ result: ToolResult, decision: String, endpoint: AgentEndpoint) -> ToolResult {
            guard let trace = endpoint.trace else { return result }
            let shown = result.text
            let call = ToolCall(tool: tool, callID: callID, decision: decision, startNanoseconds: start,
                                endNanoseconds: TraceStore.TraceClock.wallNanoseconds(),
                                argumentsSHA256: SHA256Digest(hashing: Array(arguments.utf8)).hex,
                                resultSHA256: SHA256Digest(hashing: Array(shown.utf8)).hex,
                                error: result.isError ? String(shown.prefix(200)) : nil,
                                arguments: arguments, result: shown)
            // A trace failure must not turn into a tool failure here; the recorder's own
            // fail-closed setting stops the run when the trace cannot be written.
            if let span = try? trace.toolCall(call) {
                for decision in decisions { try? trace.guardrailDecided(decision, span: span) }
            }
            return result
        }
    }
}
