import Inference

/// A provider over an `InferenceBackend` with a real tokenizer, chat template and sampler: the local
/// model (`LoadedModel`), or the scripted test backend. Calls are serialized on one lock: a backend
/// runs one generation at a time (the continuous-batching pool replaces this later).
public final class TokenModelProvider: ModelProvider {
    public let providerName: String
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let backend: any InferenceBackend
    /// Runs before each generation under the lock (the scripted backend picks its script here).
    let willGenerate: (@Sendable (ModelPrompt) -> Void)?
    private let lock = BrokerLock()

    public var contextLength: Int { backend.config.contextLength }

    /// A provider over a loaded model.
    public convenience init(model: LoadedModel, providerName: String = "warden") {
        self.init(providerName: providerName, tokenizer: model.tokenizer, template: model.template, backend: model.backend)
    }

    init(providerName: String, tokenizer: Tokenizer, template: ChatTemplate, backend: any InferenceBackend,
         willGenerate: (@Sendable (ModelPrompt) -> Void)? = nil) {
        self.providerName = providerName; self.tokenizer = tokenizer; self.template = template
        self.backend = backend; self.willGenerate = willGenerate
    }

    public func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt {
        do {
            let tokens = tokenizer.encode(try template.render(messages, addGenerationPrompt: true))
            return ModelPrompt(messages: messages, tokens: tokens, tokenCount: tokens.count)
        } catch {
            throw BrokerError(error)
        }
    }

    public func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                         onText: (String) -> Void) throws(BrokerError) -> ModelCompletion {
        let context = contextLength
        guard prompt.tokens.count < context else {
            throw BrokerError(.contextLengthExceeded, "the prompt is \(prompt.tokens.count) tokens; the model's context holds \(context)")
        }
        var sampling = SamplingParameters()
        if let temperature = settings.temperature { sampling.temperature = Float(temperature) }
        if let topP = settings.topP { sampling.topP = Float(topP) }
        sampling.seed = settings.seed
        let maxTokens = min(settings.maxTokens, context - prompt.tokens.count)
        let request = GenerationRequest(prompt: prompt.tokens, maxTokens: maxTokens, sampling: sampling, stop: settings.stop)
        do throws(InferenceError) {
            return try lock.withLock { () throws(InferenceError) -> ModelCompletion in
                willGenerate?(prompt)
                return try generate(request, isCancelled: isCancelled, onText: onText)
            }
        } catch {
            throw BrokerError(error)
        }
    }

    /// The generation loop (Generator's, plus a cancellation check between tokens).
    private func generate(_ request: GenerationRequest, isCancelled: () -> Bool,
                          onText: (String) -> Void) throws(InferenceError) -> ModelCompletion {
        var state = try GenerationState(request, tokenizer: tokenizer)
        let capacity = request.prompt.count + request.maxTokens
        let sequence = try backend.makeSequence(capacity: capacity)
        defer { backend.releaseSequence(sequence) }
        var input = request.prompt
        var length = 0
        var cancelled = false
        while true {
            if isCancelled() { cancelled = true; break }
            let logits = try backend.evaluate([SequenceInput(sequence: sequence, tokens: input)])
            length += input.count
            guard let row = logits.first else { throw InferenceError(.invalidArgument, "the backend returned no logits") }
            let (token, text) = row.withUnsafeBufferPointer { state.step(logits: $0) }
            if !text.isEmpty { onText(text) }
            if state.finishReason != nil { break }
            if length >= capacity {
                let rest = state.endForContext()
                if !rest.isEmpty { onText(rest) }
                break
            }
            input = [token]
        }
        let result = state.result
        let finish: ModelCompletion.Finish = cancelled ? .cancelled : result.finishReason == .stop ? .stop : .length
        return ModelCompletion(text: result.text, promptTokens: result.promptTokens,
                               completionTokens: result.completionTokens, finish: finish)
    }
}
