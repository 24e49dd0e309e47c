import Specs

/// `model.request`: one model call made through the broker (schema for the broker issue).
/// Its span is a child of the run (or of a tool call); content is referenced by hash, not stored here.
public struct ModelRequest: Sendable {
    public var operation: String     // gen_ai.operation.name: "chat", "text_completion"
    public var provider: String      // gen_ai.provider.name: "warden", "openai", ...
    public var model: String
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    public var inputTokens: Int?
    public var outputTokens: Int?
    /// Input tokens served from a cache (the pool's prefix cache); included in `inputTokens`.
    public var cachedInputTokens: Int?
    public var finishReasons: [String]
    public var requestSHA256: String?
    public var responseSHA256: String?
    public var error: String?

    public init(operation: String, provider: String, model: String, startNanoseconds: UInt64, endNanoseconds: UInt64,
                inputTokens: Int? = nil, outputTokens: Int? = nil, cachedInputTokens: Int? = nil, finishReasons: [String] = [],
                requestSHA256: String? = nil, responseSHA256: String? = nil, error: String? = nil) {
        self.operation = operation; self.provider = provider; self.model = model
        self.startNanoseconds = startNanoseconds; self.endNanoseconds = endNanoseconds
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.finishReasons = finishReasons
        self.cachedInputTokens = cachedInputTokens
        self.requestSHA256 = requestSHA256; self.responseSHA256 = responseSHA256; self.error = error
    }

    var json: JSONObject {
        JSONObject([
            ("operation", .string(operation)), ("provider", .string(provider)), ("model", .string(model)),
            ("start_ns", RecordBody.int(startNanoseconds)), ("end_ns", RecordBody.int(endNanoseconds)),
            ("input_tokens", RecordBody.optionalInt(inputTokens)), ("output_tokens", RecordBody.optionalInt(outputTokens)),
            ("cached_input_tokens", RecordBody.optionalInt(cachedInputTokens)),
            ("finish_reasons", RecordBody.strings(finishReasons)),
            ("request_sha256", requestSHA256.map { .string($0) } ?? .null),
            ("response_sha256", responseSHA256.map { .string($0) } ?? .null),
            ("error", error.map { .string($0) } ?? .null),
        ])
    }
}

/// `tool.call`: one tool call through the broker and the policy decision on it.
public struct ToolCall: Sendable {
    public var tool: String
    public var callID: String
    public var decision: String      // "allowed", "denied", "rate_limited", "over_budget"
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    public var argumentsSHA256: String?
    public var resultSHA256: String?
    public var error: String?
    /// The arguments as the tool saw them, after guardrail redaction, cut to `excerptLimit` bytes.
    public var arguments: String?
    /// The result as the agent saw it, after redaction, cut to `excerptLimit` bytes.
    public var result: String?

    /// The most bytes of arguments or result kept in the record (the hashes cover the whole).
    public static let excerptLimit = 4096

    public init(tool: String, callID: String, decision: String, startNanoseconds: UInt64, endNanoseconds: UInt64,
                argumentsSHA256: String? = nil, resultSHA256: String? = nil, error: String? = nil,
                arguments: String? = nil, result: String? = nil) {
        self.tool = tool; self.callID = callID; self.decision = decision
        self.startNanoseconds = startNanoseconds; self.endNanoseconds = endNanoseconds
        self.argumentsSHA256 = argumentsSHA256; self.resultSHA256 = resultSHA256; self.error = error
        self.arguments = arguments.map(Self.excerpt); self.result = result.map(Self.excerpt)
    }

    /// `text` cut to at most `excerptLimit` bytes on a character boundary.
    static func excerpt(_ text: String) -> String {
        guard text.utf8.count > excerptLimit else { return text }
        var end = text.unicodeScalars.startIndex
        var bytes = 0
        for scalar in text.unicodeScalars {
            bytes += scalar.utf8.count
            if bytes > excerptLimit { break }
            end = text.unicodeScalars.index(after: end)
        }
        return String(text.unicodeScalars[..<end])
    }

    var json: JSONObject {
        JSONObject([
            ("tool", .string(tool)), ("call_id", .string(callID)), ("decision", .string(decision)),
            ("start_ns", RecordBody.int(startNanoseconds)), ("end_ns", RecordBody.int(endNanoseconds)),
            ("arguments_sha256", argumentsSHA256.map { .string($0) } ?? .null),
            ("result_sha256", resultSHA256.map { .string($0) } ?? .null),
            ("error", error.map { .string($0) } ?? .null),
            ("arguments", arguments.map { .string($0) } ?? .null),
            ("result", result.map { .string($0) } ?? .null),
        ])
    }
}

/// `guardrail.decision`: what a guardrail concluded (verdict) kept apart from what was enforced (action).
public struct GuardrailDecision: Sendable {
    public var guardrail: String
    public var target: String        // "input", "output", "tool_call"
    public var verdict: String       // "allow", "deny", "modify", "warn", "escalate"
    public var action: String        // what the broker did: "passed", "blocked", "redacted", "logged"
    public var rule: String?
    public var reason: String?
    public var contentSHA256: String?

    public init(guardrail: String, target: String, verdict: String, action: String, rule: String? = nil,
                reason: String? = nil, contentSHA256: String? = nil) {
        self.guardrail = guardrail; self.target = target; self.verdict = verdict; self.action = action
        self.rule = rule; self.reason = reason; self.contentSHA256 = contentSHA256
    }

    var json: JSONObject {
        JSONObject([
            ("guardrail", .string(guardrail)), ("target", .string(target)), ("verdict", .string(verdict)),
            ("action", .string(action)), ("rule", rule.map { .string($0) } ?? .null),
            ("reason", reason.map { .string($0) } ?? .null),
            ("content_sha256", contentSHA256.map { .string($0) } ?? .null),
        ])
    }
}
