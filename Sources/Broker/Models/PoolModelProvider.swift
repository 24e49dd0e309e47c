import HostOS
import Inference
import Specs

/// A provider over the shared inference pool: each call is a pool request under its caller's fair-share
/// weight, priority and deadline; text comes back as the pool produces it, and a caller that goes away
/// (or a stream a guardrail ends) cancels its request, whose KV blocks the pool frees at its next step.
public final class PoolModelProvider: ModelProvider {
    public let providerName: String
    public let pool: InferencePool
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let contextLength: Int
    /// How often a waiting call looks at `isCancelled` when no text arrives.
    static let cancellationPoll: Duration = .milliseconds(20)

    public init(pool: InferencePool, tokenizer: Tokenizer, template: ChatTemplate, contextLength: Int, providerName: String = "warden") {
        self.pool = pool; self.tokenizer = tokenizer; self.template = template
        self.contextLength = contextLength; self.providerName = providerName
    }

    /// The default model through a pool configured by `configuration`, placed on the devices it
    /// chooses (``DevicePlacement``): one worker per GPU, or CPU workers. Why no GPU is used goes to
    /// `notice` (info level); a configured GPU the machine does not have is an error.
    public convenience init(model: LoadedModel, configuration: PoolConfiguration, threads: Int? = nil,
                            gpu: GPUSupport = .cuda, notice: @escaping @Sendable (String) -> Void = PoolModelProvider.standardErrorNotice) throws(InferenceError) {
        let placement = try DevicePlacement.resolve(configuration.devices, source: configuration.devicesSource, discover: gpu.discover)
        if let message = placement.notice { notice(message) }
        let backends = model.poolBackends(gpu: gpu, maxPassTokens: configuration.maxBatchTokens, threads: threads)
        let pool = InferencePool(configuration: configuration, tokenizer: model.tokenizer, placement: placement, notice: notice, makeBackend: backends)
        self.init(pool: pool, tokenizer: model.tokenizer, template: model.template, contextLength: model.llama.config.contextLength)
    }

    /// Writes an info-level line to standard error, where `warden serve-model` and `warden serve` (the
    /// journal, under Scripts/warden.service) log: `warden: info: <message>`.
    @Sendable public static func standardErrorNotice(_ message: String) {
        try? FileDescriptor.standardError.writeAll(Array("warden: info: \(message)\n".utf8))
    }

    public func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt {
        try ModelPrompt.rendered(messages, tokenizer: tokenizer, template: template)
    }

    public func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                         onText: (String) -> Void) throws(BrokerError) -> ModelCompletion {
        guard prompt.tokens.count < contextLength else {
            throw BrokerError(.contextLengthExceeded, "the prompt is \(prompt.tokens.count) tokens; the model's context holds \(contextLength)")
        }
        let ticket: PoolTicket
        do { ticket = try pool.submit(Self.request(prompt, settings, contextLength: contextLength)) } catch { throw BrokerError(error) }
        var text = "", cancelled = false
        while true {
            if !cancelled, isCancelled() {
                cancelled = true
                ticket.cancel()
            }
            guard let event = ticket.next(timeout: Self.cancellationPoll) else { continue }
            switch event {
            case .text(let piece):
                text += piece
                if !cancelled { onText(piece) }
            case .finished(let done):
                let finish: ModelCompletion.Finish = cancelled ? .cancelled : done.result.finishReason == .stop ? .stop : .length
                return ModelCompletion(text: done.result.text, promptTokens: done.usage.promptTokens,
                                       completionTokens: done.usage.completionTokens, finish: finish,
                                       cachedPromptTokens: done.usage.cachedPromptTokens)
            case .failed(let error):
                guard cancelled, error.code == .cancelled else { throw BrokerError(error) }
                return ModelCompletion(text: text, promptTokens: prompt.tokens.count,
                                       completionTokens: tokenizer.encode(text).count, finish: .cancelled)
            }
        }
    }

    public func cancelAll(agent: String) { pool.cancelAll(agent: agent) }
    public func prometheusText(perAgent: Bool, openMetrics: Bool) -> String? {
        pool.metrics().prometheusText(perAgent: perAgent, openMetrics: openMetrics)
    }
    public func shutdown() { pool.shutdown() }

    /// The pool request for a prompt: sampling from the settings, fairness from the caller.
    static func request(_ prompt: ModelPrompt, _ settings: GenerationSettings, contextLength: Int) -> PoolRequest {
        let generation = settings.generation(for: prompt, contextLength: contextLength)
        let caller = settings.caller
        return PoolRequest(agent: caller.agent, weight: caller.share.weight,
                           priority: caller.share.priority == .batch ? .batch : .interactive,
                           generation: generation, deadline: caller.deadline, devices: caller.share.devices)
    }
}
