import HostOS
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
    private let lock = ConditionLock()

    public var contextLength: Int { backend.config.contextLength }

    /// A provider over a loaded model.
    public convenience init(model: LoadedModel, providerName: String = "warden") throws(InferenceError) {
        self.init(providerName: providerName, tokenizer: model.tokenizer, template: model.template, backend: try model.backend)
    }

    init(providerName: String, tokenizer: Tokenizer, template: ChatTemplate, backend: any InferenceBackend,
         willGenerate: (@Sendable (ModelPrompt) -> Void)? = nil) {
        self.providerName = providerName; self.tokenizer = tokenizer; self.template = template
        self.backend = backend; self.willGenerate = willGenerate
    }

    public func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt {
        try ModelPrompt.rendered(messages, tokenizer: tokenizer, template: template)
    }

    public func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                         onText: (String) -> Void) throws(BrokerError) -> ModelCompletion {
        let context = contextLength
        guard prompt.tokens.count < context else {
            throw BrokerError(.contextLengthExceeded, "the prompt is \(prompt.tokens.count) tokens; the model's context holds \(context)")
        }
        let request = settings.generation(for: prompt, contextLength: context)
        var cancelled = false
        let result: GenerationResult
        do throws(InferenceError) {
            result = try lock.withLock { () throws(InferenceError) -> GenerationResult in
                willGenerate?(prompt)
                return try Generator(backend: backend, tokenizer: tokenizer).generate(
                    request, onText: onText, isCancelled: { cancelled = cancelled || isCancelled(); return cancelled })
            }
        } catch {
            throw BrokerError(error)
        }
        let finish: ModelCompletion.Finish = cancelled ? .cancelled : result.finishReason == .stop ? .stop : .length
        return ModelCompletion(text: result.text, promptTokens: result.promptTokens,
                               completionTokens: result.completionTokens, finish: finish)
    }
}
