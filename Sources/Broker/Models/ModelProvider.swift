import Inference
import Specs

/// A prompt ready for one provider: the conversation in template roles, and its token count.
public struct ModelPrompt: Sendable {
    /// The conversation as the chat template renders it (tools and tool calls already folded in).
    public var messages: [ChatMessage]
    /// The prompt's token ids (empty for providers that do not tokenize).
    public var tokens: [Int32]
    /// The prompt's length in tokens (exact where `tokens` is set, else an estimate).
    public var tokenCount: Int

    public init(messages: [ChatMessage], tokens: [Int32], tokenCount: Int) {
        self.messages = messages; self.tokens = tokens; self.tokenCount = tokenCount
    }
}

/// Who is asking, for a shared pool's fair queues: the run, its policy's share, its deadline.
public struct ModelCaller: Sendable, Equatable {
    /// The fairness key: an agent run's id (or a serve-model caller's name).
    public var agent: String
    /// The policy's share of the pool.
    public var share: InferenceShare
    /// When the request gives up (queued or generating).
    public var deadline: ContinuousClock.Instant?

    public init(agent: String, share: InferenceShare = .init(), deadline: ContinuousClock.Instant? = nil) {
        self.agent = agent; self.share = share; self.deadline = deadline
    }

    /// A caller with `share`, whose deadline is the share's request timeout from now.
    public static func starting(now agent: String, share: InferenceShare) -> ModelCaller {
        ModelCaller(agent: agent, share: share,
                    deadline: .now + .milliseconds(share.requestTimeoutMilliseconds))
    }
}

/// How to generate: the request's sampling fields, already validated and capped by the policy, and
/// who asks.
public struct GenerationSettings: Sendable, Equatable {
    public var maxTokens: Int
    public var temperature: Double?
    public var topP: Double?
    public var seed: UInt64
    public var stop: [String]
    public var caller: ModelCaller

    public init(maxTokens: Int, temperature: Double? = nil, topP: Double? = nil, seed: UInt64 = 0, stop: [String] = [],
                caller: ModelCaller = ModelCaller(agent: "anonymous")) {
        self.maxTokens = maxTokens; self.temperature = temperature; self.topP = topP; self.seed = seed; self.stop = stop
        self.caller = caller
    }
}

/// What a generation produced.
public struct ModelCompletion: Sendable, Equatable {
    public enum Finish: String, Sendable {
        case stop, length
        /// The client went away (or the call was stopped) before the model finished.
        case cancelled
    }
    public var text: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var finish: Finish
    /// True when the token counts are estimates (an upstream server that reported no usage).
    public var usageEstimated: Bool
    /// Prompt tokens served from the pool's prefix cache instead of being computed.
    public var cachedPromptTokens: Int

    public init(text: String, promptTokens: Int, completionTokens: Int, finish: Finish, usageEstimated: Bool = false,
                cachedPromptTokens: Int = 0) {
        self.text = text; self.promptTokens = promptTokens; self.completionTokens = completionTokens; self.finish = finish
        self.usageEstimated = usageEstimated; self.cachedPromptTokens = cachedPromptTokens
    }
}

/// Something that completes chat prompts: the local model, a scripted test model, later the pool
/// and upstream servers. Called on a broker worker thread, never on the HTTP event loop.
public protocol ModelProvider: Sendable {
    /// `gen_ai.provider.name` for the trace ("warden", "scripted", ...).
    var providerName: String { get }
    /// Prompt plus completion must fit this many tokens.
    var contextLength: Int { get }
    /// Renders and tokenizes a conversation (cheap enough to run before admission: the token count
    /// is the admission estimate).
    func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt
    /// Generates, calling `onText` with each final piece of text; stops early once `isCancelled`
    /// returns true (checked between tokens).
    func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                  onText: (String) -> Void) throws(BrokerError) -> ModelCompletion
    /// Ends whatever `agent` still has queued or running (its run ended); providers that hold nothing
    /// between calls need not implement it.
    func cancelAll(agent: String)
    /// Metrics in Prometheus text, for providers that keep them (`perAgent`: series per caller;
    /// `openMetrics`: counter families named the OpenMetrics way).
    func prometheusText(perAgent: Bool, openMetrics: Bool) -> String?
    /// Releases what the provider holds (workers, memory); later calls fail.
    func shutdown()
}

extension ModelProvider {
    public func cancelAll(agent: String) {}
    public func prometheusText(perAgent: Bool, openMetrics: Bool) -> String? { nil }
    public func shutdown() {}
}

extension BrokerError {
    /// An inference failure as a broker error (context overflow is the caller's fault, the rest ours).
    init(_ error: InferenceError) {
        switch error.code {
        case .contextOverflow: self.init(.contextLengthExceeded, error.message)
        case .invalidArgument, .invalidToken: self.init(.invalidRequest, error.message)
        case .overloaded:
            self.init(.modelOverloaded, "the model is overloaded: \(error.message)", retryAfterMilliseconds: error.retryAfterMilliseconds ?? 1000)
        case .deadlineExceeded: self.init(.deadlineExceeded, error.message)
        case .unavailable: self.init(.modelUnavailable, error.message)
        default: self.init(.internalError, "the model failed: \(error.message)")
        }
    }
}

extension GenerationSettings {
    /// The engine's request for `prompt`: the sampling fields, and a completion cap that leaves the
    /// prompt and completion within `contextLength`.
    func generation(for prompt: ModelPrompt, contextLength: Int) -> GenerationRequest {
        var sampling = SamplingParameters()
        if let temperature { sampling.temperature = Float(temperature) }
        if let topP { sampling.topP = Float(topP) }
        sampling.seed = seed
        return GenerationRequest(prompt: prompt.tokens, maxTokens: min(maxTokens, contextLength - prompt.tokens.count),
                                 sampling: sampling, stop: stop)
    }
}

extension ModelPrompt {
    /// A conversation rendered with the model's chat template and tokenized.
    static func rendered(_ messages: [ChatMessage], tokenizer: Tokenizer, template: ChatTemplate) throws(BrokerError) -> ModelPrompt {
        do {
            let tokens = tokenizer.encode(try template.render(messages, addGenerationPrompt: true))
            return ModelPrompt(messages: messages, tokens: tokens, tokenCount: tokens.count)
        } catch {
            throw BrokerError(error)
        }
    }
}
