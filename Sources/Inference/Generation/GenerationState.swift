/// Why a generation ended (the OpenAI `finish_reason` values).
public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `max_tokens` or the context ran out.
    case length
}

/// What to generate for one sequence.
public struct GenerationRequest: Sendable {
    /// The prompt's token ids (already formatted and tokenized).
    public var prompt: [Int32]
    /// The most tokens to generate.
    public var maxTokens: Int
    /// How to pick each token.
    public var sampling: SamplingParameters
    /// Strings that end the generation; they are not part of the text.
    public var stop: [String]
    /// Keep generating past end-of-generation tokens until `maxTokens` (vLLM's `ignore_eos`; benchmarks
    /// use it to decode a fixed number of tokens). Their text is not shown.
    public var ignoresEndOfGeneration: Bool

    /// Makes a request.
    public init(prompt: [Int32], maxTokens: Int = 256, sampling: SamplingParameters = .greedy, stop: [String] = [],
                ignoresEndOfGeneration: Bool = false) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.ignoresEndOfGeneration = ignoresEndOfGeneration
    }
}

/// The outcome of one generation.
public struct GenerationResult: Equatable, Sendable {
    /// The generated text, without the stop string or end-of-generation token.
    public var text: String
    /// Every generated id, including an end-of-generation token that ended it.
    public var tokens: [Int32]
    /// Why it ended.
    public var finishReason: FinishReason
    /// The stop string that ended it, if one did.
    public var stopString: String?
    /// Prompt length in tokens.
    public var promptTokens: Int
    /// Generated tokens (`tokens.count`).
    public var completionTokens: Int { tokens.count }
}

/// The per-sequence part of generation: sampler, history, text stream, counters. A loop over one
/// sequence (``Generator``) or a batched pool feeds it one row of logits per step.
public struct GenerationState: Sendable {
    /// The request being served.
    public let request: GenerationRequest
    /// Internal, not private: a pool worker that overlaps output processing picks tokens on its
    /// scheduler thread with a copy of it while this state is fed on another thread, and writes the
    /// copy back when the sequence leaves the worker.
    var sampler: Sampler
    private var history: [Int32]
    private var stream: TextStream
    private let endTokens: Set<Int32>
    private let tokenizer: Tokenizer
    /// The generated ids so far.
    public private(set) var tokens: [Int32] = []
    /// The text emitted so far.
    public private(set) var text = ""
    /// Set once the generation has ended.
    public private(set) var finishReason: FinishReason?

    /// Starts a generation; invalid sampling parameters or `maxTokens` are an error naming them.
    public init(_ request: GenerationRequest, tokenizer: Tokenizer) throws(InferenceError) {
        guard request.maxTokens >= 1 else {
            throw InferenceError(.invalidArgument, "max_tokens must be >= 1 (got \(request.maxTokens))")
        }
        guard !request.stop.contains("") else { throw InferenceError(.invalidArgument, "stop strings must not be empty") }
        self.request = request
        sampler = try Sampler(request.sampling)
        history = request.prompt
        stream = TextStream(stopStrings: request.stop)
        endTokens = tokenizer.endOfGenerationIDs
        self.tokenizer = tokenizer
    }

    /// Samples the next token from `logits` and returns it with the text now safe to show; when this
    /// step ends the generation, `finishReason` is set (the token is still returned and counted).
    public mutating func step(logits: UnsafeBufferPointer<Float>) -> (token: Int32, text: String) {
        step(chosen: sampler.sample(logits, history: history[...]))
    }

    /// Whether a backend may pick this sequence's tokens (``Sampler/isPlain``).
    public var hasPlainSampler: Bool { sampler.isPlain }

    /// The choice a backend makes for the next token (``Sampler/nextChoice()``); call it once per
    /// token, then pass the token picked to `step(chosen:)`.
    public mutating func nextChoice() -> TokenChoice? { sampler.nextChoice() }

    /// Takes `token` as the next one (picked by the sampler, or by a backend from `nextChoice()`) and
    /// returns the text now safe to show, as `step(logits:)` does.
    public mutating func step(chosen token: Int32) -> (token: Int32, text: String) {
        history.append(token)
        tokens.append(token)
        var shown = ""
        if endTokens.contains(token) && !request.ignoresEndOfGeneration {
            shown = stream.finish()
            finishReason = .stop
        } else if endTokens.contains(token) {
            if tokens.count >= request.maxTokens {
                shown = stream.finish()
                finishReason = .length
            }
        } else {
            shown = stream.append(tokenizer.bytes(of: token))
            if stream.matchedStop != nil {
                finishReason = .stop
            } else if tokens.count >= request.maxTokens {
                shown += stream.finish()
                finishReason = .length
            }
        }
        text += shown
        return (token, shown)
    }

    /// Ends the generation early because the context is full; returns the text still held.
    public mutating func endForContext() -> String {
        let shown = stream.finish()
        text += shown
        finishReason = .length
        return shown
    }

    /// The result, once finished (or what there is so far).
    public var result: GenerationResult {
        GenerationResult(text: text, tokens: tokens, finishReason: finishReason ?? .length,
                         stopString: stream.matchedStop, promptTokens: request.prompt.count)
    }
}
