import Glibc
import Guardrails
import HTTPServer
import Inference
import Specs
import TraceStore

/// One `POST /v1/chat/completions` call, run on a broker worker thread: decode, policy (model
/// allowlist, per-request cap), input guardrails, prompt, admission (tokens reserved from the
/// prompt length plus the completion cap), generation (streamed or not) through the output
/// guardrails, settlement with the real usage, and the trace records.
struct ChatCompletionCall {
    let endpoint: AgentEndpoint
    let catalog: ModelCatalog
    let body: [UInt8]
    let responder: any HTTPResponder

    /// What the trace gets about the call, filled in as it goes.
    final class Record {
        var model = ""
        var provider = "warden"
        var inputTokens: Int?
        var outputTokens: Int?
        var cachedInputTokens: Int?
        var finishReasons: [String] = []
        var responseText = ""
        var error: String?
        var decisions: [(GuardrailStage, GuardrailVerdict)] = []
        /// Stages whose guardrails ran (each gets a decision record, an `allow` when nothing was found).
        var checked: Set<GuardrailStage> = []
    }

    func run() {
        let start = TraceClock.wallNanoseconds()
        let record = Record()
        let end = CallEnd(admission: endpoint.admission) { trace(record, start: start) }
        do {
            try serve(record, end)
        } catch {
            record.error = error.description
            end.finish()
            responder.respond(error.httpResponse)
        }
        end.finish()
    }

    private func serve(_ record: Record, _ end: CallEnd) throws(BrokerError) {
        let request = try ChatCompletionRequest(body: body)
        record.model = request.model
        let cap = try allowedCompletionTokens(request)
        let provider = try catalog.provider(named: request.model)
        record.provider = provider.providerName
        let prompt = try prepare(request, provider: provider, record: record)
        var settings = Self.settings(request, maxTokens: min(cap, provider.contextLength - prompt.tokenCount))
        let agent = endpoint.fairnessByUser ? request.user.map { "\(endpoint.runID)/\($0)" } ?? endpoint.runID : endpoint.runID
        settings.caller = .starting(now: agent, share: endpoint.policy.inference)
        let ticket = try endpoint.admission.admit(.model, estimatedTokens: prompt.tokenCount + settings.maxTokens)
        end.ticket = ticket
        record.inputTokens = prompt.tokenCount
        if request.stream {
            let stream = ChatStream(request: request, endpoint: endpoint, responder: responder, record: record)
            stream.run(provider: provider, prompt: prompt, settings: settings, end: end)
        } else {
            try respondWhole(request, provider: provider, prompt: prompt, settings: settings, record: record, end: end)
        }
    }

    /// The completion cap: the request's, else the policy's for the model; a model outside the
    /// allowlist or a cap above the policy's is a denial.
    private func allowedCompletionTokens(_ request: ChatCompletionRequest) throws(BrokerError) -> Int {
        let policy = endpoint.policy
        guard let rule = policy.models.first(where: { $0.name == request.model }) else {
            var error = BrokerError(.policyDenied, "the model \"\(request.model)\" is not allowed by the run's policy (allowed: "
                                    + policy.models.map(\.name).joined(separator: ", ") + ")")
            error.param = "model"
            throw error
        }
        let asked = request.maxCompletionTokens ?? rule.maxTokensPerRequest
        guard asked <= rule.maxTokensPerRequest else {
            var error = BrokerError(.policyDenied, "max_completion_tokens \(asked) is more than the policy allows for "
                                    + "\(rule.name) (\(rule.maxTokensPerRequest))")
            error.param = "max_completion_tokens"
            throw error
        }
        return asked
    }

    /// The conversation after the input guardrails, rendered and tokenized; it must leave room to generate.
    private func prepare(_ request: ChatCompletionRequest, provider: any ModelProvider, record: Record) throws(BrokerError) -> ModelPrompt {
        var verdicts: [GuardrailVerdict] = []
        record.checked.insert(.modelInput)
        defer { record.decisions += verdicts.map { (.modelInput, $0) } }
        let messages = try ChatPromptBuilder(request: request, pipeline: endpoint.guardrails).messages(decisions: &verdicts)
        let prompt = try provider.prepare(messages)
        guard prompt.tokenCount < provider.contextLength else {
            throw BrokerError(.contextLengthExceeded, "the prompt is \(prompt.tokenCount) tokens; the model's context holds \(provider.contextLength)")
        }
        return prompt
    }

    /// Sampling from the request; without a seed, a random one (OpenAI's default is nondeterministic).
    static func settings(_ request: ChatCompletionRequest, maxTokens: Int) -> GenerationSettings {
        var seed = request.seed.map { UInt64(bitPattern: $0) } ?? 0
        if request.seed == nil { var generator = SystemRandomNumberGenerator(); seed = generator.next() }
        return GenerationSettings(maxTokens: maxTokens, temperature: request.temperature, topP: request.topP, seed: seed, stop: request.stop)
    }

    /// Non-streaming: generate, split out tool calls, check the output, answer once.
    private func respondWhole(_ request: ChatCompletionRequest, provider: any ModelProvider, prompt: ModelPrompt,
                              settings: GenerationSettings, record: Record, end: CallEnd) throws(BrokerError) {
        // A client that closes its connection cancels the generation (its KV memory freed at once).
        let completion = try provider.complete(prompt, settings: settings, isCancelled: { [responder] in responder.peerHasGone },
                                               onText: { _ in })
        record.outputTokens = completion.completionTokens
        record.cachedInputTokens = completion.cachedPromptTokens
        record.checked.insert(.modelOutput)
        end.used = completion.promptTokens + completion.completionTokens
        var scanner = ToolCallScanner()
        let pieces = request.tools.isEmpty || request.toolChoice == .none
            ? [.content(completion.text)] : scanner.feed(completion.text) + scanner.finish()
        var content = ""
        var calls: [(ToolCallFormat.Call, String)] = []
        for piece in pieces {
            switch piece {
            case .content(let text): content += text
            case .call(let call): calls.append((call, ChatCompletionJSON.newCallID()))
            }
        }
        if request.jsonObject, calls.isEmpty {
            guard let json = Self.jsonContent(content) else {
                throw BrokerError(.internalError, "the model's answer is not a JSON object (response_format json_object)")
            }
            content = json
        }
        content = try outputChecked(content, record: record)
        for index in calls.indices { calls[index].0.arguments = try outputChecked(calls[index].0.arguments, record: record) }
        let finish = !calls.isEmpty ? "tool_calls" : completion.finish == .length ? "length" : "stop"
        record.finishReasons = [finish]
        record.responseText = content + calls.map { $0.0.name + $0.0.arguments }.joined()
        let trimmed = calls.isEmpty ? content : content.trimmingWhitespace()
        let body = ChatCompletionJSON.completion(
            id: ChatCompletionJSON.newID(), created: ChatCompletionJSON.now(), model: request.model,
            content: calls.isEmpty || !trimmed.isEmpty ? trimmed : nil, calls: calls, finishReason: finish,
            promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
            cachedTokens: completion.cachedPromptTokens)
        end.finish()
        responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/json")]),
                                       body: JSONWriter.compactBytes(body)))
    }

    private func outputChecked(_ text: String, record: Record) throws(BrokerError) -> String {
        if text.isEmpty { return text }
        let verdict = endpoint.guardrails.check(text, stage: .modelOutput)
        if !verdict.findings.isEmpty || verdict.action != .passed { record.decisions.append((.modelOutput, verdict)) }
        switch verdict.action {
        case .blocked: throw BrokerError(.guardrailBlocked, "blocked by the output guardrail: \(verdict.reason ?? "policy violation")")
        case .redacted: return verdict.text
        case .passed, .flagged: return text
        }
    }

    /// The JSON object in a json_object answer: the whole text, else the first balanced `{…}`
    /// that parses (small models wrap JSON in prose or code fences); nil when there is none.
    static func jsonContent(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespace()
        if case .object? = try? JSONParser.parse(trimmed) { return trimmed }
        let bytes = Array(text.utf8)
        var start = 0
        while let open = bytes[start...].firstIndex(of: UInt8(ascii: "{")) {
            var depth = 0, inString = false, escaped = false
            for index in open..<bytes.count {
                let byte = bytes[index]
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = true }
                if byte == UInt8(ascii: "{") { depth += 1 }
                if byte == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0 {
                        let candidate = Array(bytes[open...index])
                        if case .object? = try? JSONParser.parse(candidate) { return String(decoding: candidate, as: UTF8.self) }
                        break
                    }
                }
            }
            start = open + 1
        }
        return nil
    }

    /// `model.request` with its span, then each guardrail decision inside that span.
    private func trace(_ record: Record, start: UInt64) {
        guard let recorder = endpoint.trace else { return }
        var responseHash = SHA256Hasher()
        responseHash.update(Array(record.responseText.utf8))
        var requestHash = SHA256Hasher()
        requestHash.update(body)
        let request = ModelRequest(operation: "chat", provider: record.provider, model: record.model.isEmpty ? "unknown" : record.model,
                                   startNanoseconds: start, endNanoseconds: TraceClock.wallNanoseconds(),
                                   inputTokens: record.inputTokens, outputTokens: record.outputTokens,
                                   cachedInputTokens: record.cachedInputTokens, finishReasons: record.finishReasons, requestSHA256: requestHash.finalize().hex,
                                   responseSHA256: record.error == nil ? responseHash.finalize().hex : nil, error: record.error)
        guard let span = try? recorder.modelRequest(request) else { return }
        for (stage, verdict) in record.decisions {
            try? recorder.guardrailDecided(GuardrailDecision(verdict, stage: stage), span: span)
        }
        for stage in GuardrailStage.allCases where record.checked.contains(stage) && !record.decisions.contains(where: { $0.0 == stage }) {
            try? recorder.guardrailDecided(GuardrailDecision(guardrail: "pipeline", target: stage.rawValue, verdict: "allow", action: "passed"), span: span)
        }
    }
}

/// Ends one call exactly once, before its last bytes leave: settles the admission ticket (with
/// the real usage, or the reservation when the model failed without one) and records the trace.
/// A client that sends its next call the moment this one is answered must find the concurrency
/// slot and the refund already there, and a run that ends when its agent exits must find the
/// call's records already written.
final class CallEnd {
    let admission: Admission
    var ticket: Admission.Ticket?
    /// Tokens really used, once known.
    var used: Int?
    private let record: () -> Void
    private var done = false

    init(admission: Admission, record: @escaping () -> Void) { self.admission = admission; self.record = record }

    func finish() {
        guard !done else { return }
        done = true
        if let ticket { admission.settle(ticket, usedTokens: used ?? ticket.reservedTokens) }
        record()
    }
}

extension GuardrailDecision {
    /// The trace form of a verdict: what was concluded apart from what was done.
    init(_ verdict: GuardrailVerdict, stage: GuardrailStage) {
        let first = verdict.findings.first
        let action: String
        switch verdict.action {
        case .passed: action = "passed"
        case .blocked: action = "blocked"
        case .redacted: action = "redacted"
        case .flagged: action = "logged"
        }
        self.init(guardrail: first?.detector ?? "pipeline", target: stage.rawValue, verdict: verdict.verdict, action: action,
                  rule: first?.rule, reason: verdict.reason)
    }
}
