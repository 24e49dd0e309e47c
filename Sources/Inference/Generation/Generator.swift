/// Runs generations for one sequence at a time over an ``InferenceBackend`` it has to itself: prefill the
/// prompt in one evaluation, then sample and feed back one token per step, streaming text as it becomes
/// final. The sequence uses the arena's first blocks in order (nothing else runs on the backend
/// meanwhile; the pool is what shares a backend between sequences).
public struct Generator: Sendable {
    /// The backend holding the model.
    public let backend: any InferenceBackend
    /// The model's tokenizer.
    public let tokenizer: Tokenizer

    /// A generator over `backend` with `tokenizer`.
    public init(backend: any InferenceBackend, tokenizer: Tokenizer) {
        self.backend = backend
        self.tokenizer = tokenizer
    }

    /// Generates for `request`, calling `onText` with each piece of text as soon as it is final
    /// (never half a code point, never a stop string or a prefix of one that later completes).
    /// `isCancelled` is asked before each step; when it answers true the generation ends there
    /// (its result so far is returned, with finish reason `length`).
    public func generate(_ request: GenerationRequest, onText: (String) -> Void = { _ in },
                         isCancelled: () -> Bool = { false }) throws(InferenceError) -> GenerationResult {
        let context = backend.config.contextLength
        guard !request.prompt.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty") }
        guard request.prompt.count < context else {
            throw InferenceError(.contextOverflow, """
                the prompt is \(request.prompt.count) tokens but the model's context holds \(context) \
                (and at least one more is needed to generate): shorten the prompt
                """)
        }
        if let bad = request.prompt.first(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
            throw InferenceError(.invalidToken, "prompt token \(bad) is outside the vocabulary of \(tokenizer.vocabularySize)")
        }
        // Prompt plus completion fit in the context (OpenAI's rule): the last token sampled is never
        // evaluated, so the cache needs one position less than that.
        var bounded = request
        bounded.maxTokens = min(request.maxTokens, context - request.prompt.count)
        var state = try GenerationState(bounded, tokenizer: tokenizer)
        let capacity = request.prompt.count + bounded.maxTokens
        let layout = backend.kvLayout
        guard capacity <= layout.capacity else {
            throw InferenceError(.contextOverflow, """
                the prompt and max_tokens need \(capacity) cached positions but the backend's KV memory \
                holds \(layout.capacity): shorten the prompt or lower max_tokens
                """)
        }
        let blocks = (0..<Int32(layout.blocks(for: capacity))).map { $0 }

        var input = request.prompt
        var length = 0
        while !isCancelled() {
            let logits = try backend.evaluate([BatchEntry(blocks: blocks, start: length, tokens: input)])
            length += input.count
            guard let row = logits.first, !row.isEmpty else {
                throw InferenceError(.invalidArgument, "the backend returned no logits")
            }
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
        return state.result
    }
}
