import Guardrails
import HTTPServer
import Specs

/// A streamed completion (`stream: true`): SSE chunks as the model generates, tool calls as
/// tool_call deltas, content through the output guardrail's hold-back stream. A guardrail block,
/// a model failure or an invalid json_object answer ends the stream with a `data: {"error": …}`
/// event (the official SDK raises APIError on it); a client that goes away cancels the generation.
/// Lives on one worker thread: the model calls back on the thread that called `run`.
final class ChatStream {
    let request: ChatCompletionRequest
    let endpoint: AgentEndpoint
    let responder: any HTTPResponder
    let record: ChatCompletionCall.Record
    let id = ChatCompletionJSON.newID()
    let created = ChatCompletionJSON.now()
    private var scanner = ToolCallScanner()
    private var guardrail: GuardrailStream
    private let scansToolCalls: Bool
    /// json_object answers are held whole and checked before they are sent.
    private var heldJSON = ""
    private var callCount = 0
    /// Set once the stream must end early (client gone, or blocked): the generation stops.
    private(set) var stopped = false
    /// The error event the stream ends with (a block, a failure).
    private var pendingError: BrokerError?

    init(request: ChatCompletionRequest, endpoint: AgentEndpoint, responder: any HTTPResponder, record: ChatCompletionCall.Record) {
        self.request = request; self.endpoint = endpoint; self.responder = responder; self.record = record
        guardrail = endpoint.guardrails.stream(stage: .modelOutput)
        scansToolCalls = !request.tools.isEmpty && request.toolChoice != .none
    }

    /// Streams the whole answer. The call is ended (settled, traced) before its last bytes leave.
    func run(provider: any ModelProvider, prompt: ModelPrompt, settings: GenerationSettings, end: CallEnd) {
        var headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
        headers.add("x-accel-buffering", "no")
        responder.startStream(status: 200, headers: headers)
        record.checked.insert(.modelOutput)
        send(chunk(JSONObject([("role", .string("assistant")), ("content", .string(""))]), finish: nil))
        do {
            let completion = try provider.complete(prompt, settings: settings, isCancelled: { [unowned self] in stopped || responder.peerHasGone },
                                                   onText: { [unowned self] text in feed(text) })
            record.outputTokens = completion.completionTokens
            record.cachedInputTokens = completion.cachedPromptTokens
            end.used = completion.promptTokens + completion.completionTokens
            if !stopped {
                for piece in scansToolCalls ? scanner.finish() : [] { emit(piece) }
                finishContent()
            }
            if !stopped { return complete(completion, end: end) }
        } catch {
            end.used = prompt.tokenCount
            fail(error)
        }
        end.finish()
        if let pendingError { _ = responder.write(ChatCompletionJSON.event(pendingError.openAIErrorJSON)) }
        responder.finish()
    }

    /// The normal ending: finish_reason, usage, [DONE].
    private func complete(_ completion: ModelCompletion, end: CallEnd) {
        let finish = callCount > 0 ? "tool_calls" : completion.finish == .length ? "length" : "stop"
        record.finishReasons = [finish]
        end.finish()
        // One write for the tail: each write is a hand-off to the event loop.
        var tail = chunk(JSONObject(), finish: finish)
        if request.includeUsage {
            tail += ChatCompletionJSON.usageChunk(id: id, created: created, model: request.model,
                                                  promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
                                                  cachedTokens: completion.cachedPromptTokens)
        }
        tail += ChatCompletionJSON.done
        send(tail)
        responder.finish()
    }

    private func feed(_ text: String) {
        guard !stopped else { return }
        if scansToolCalls {
            for piece in scanner.feed(text) { emit(piece) }
        } else {
            content(text)
        }
    }

    private func emit(_ piece: ToolCallScanner.Piece) {
        guard !stopped else { return }
        switch piece {
        case .content(let text): content(text)
        case .call(var call):
            let verdict = endpoint.guardrails.check(call.arguments, stage: .modelOutput)
            if !verdict.findings.isEmpty || verdict.action != .passed { record.decisions.append((.modelOutput, verdict)) }
            if verdict.action == .blocked { return block(verdict) }
            if verdict.action == .redacted { call.arguments = verdict.text }
            let index = ChatCompletionJSON.int(callCount)
            callCount += 1
            let head = JSONObject([("index", index), ("id", .string(ChatCompletionJSON.newCallID())), ("type", .string("function")),
                                   ("function", .object(JSONObject([("name", .string(call.name)), ("arguments", .string(""))])))])
            send(chunk(JSONObject([("tool_calls", .array([.object(head)]))]), finish: nil))
            let body = JSONObject([("index", index), ("function", .object(JSONObject([("arguments", .string(call.arguments))])))])
            send(chunk(JSONObject([("tool_calls", .array([.object(body)]))]), finish: nil))
            record.responseText += call.name + call.arguments
        }
    }

    /// Plain content: held whole for json_object, else through the guardrail's hold-back window.
    private func content(_ text: String) {
        if request.jsonObject { heldJSON += text; return }
        release(guardrail.feed(text))
    }

    private func finishContent() {
        guard !stopped else { return }
        if request.jsonObject, callCount == 0 {
            guard let json = ChatCompletionCall.jsonContent(heldJSON) else {
                return fail(BrokerError(.internalError, "the model's answer is not a JSON object (response_format json_object)"))
            }
            release(guardrail.feed(json))
        }
        release(guardrail.finish())
    }

    private func release(_ step: GuardrailStream.Step) {
        switch step {
        case .blocked(let verdict): block(verdict)
        case .release(let text, let verdict):
            if let verdict, !verdict.findings.isEmpty || verdict.action != .passed { record.decisions.append((.modelOutput, verdict)) }
            guard !text.isEmpty else { return }
            record.responseText += text
            send(chunk(JSONObject([("content", .string(text))]), finish: nil))
        }
    }

    private func block(_ verdict: GuardrailVerdict) {
        record.decisions.append((.modelOutput, verdict))
        record.finishReasons = ["content_filter"]
        fail(BrokerError(.guardrailBlocked, "blocked by the output guardrail: \(verdict.reason ?? "policy violation")"))
    }

    /// Stops the generation; the stream ends with this error as an SSE event once the call is ended.
    private func fail(_ error: BrokerError) {
        guard pendingError == nil else { return }
        pendingError = error
        record.error = record.error ?? error.description
        stopped = true
    }

    private func chunk(_ delta: JSONObject, finish: String?) -> [UInt8] {
        ChatCompletionJSON.chunk(id: id, created: created, model: request.model, delta: delta, finishReason: finish,
                                 withUsage: request.includeUsage)
    }

    private func send(_ bytes: [UInt8]) {
        guard !stopped else { return }
        if !responder.write(bytes) {
            stopped = true
            if record.error == nil { record.error = "client went away" }
        }
    }
}
