extension CPUBackend {
    /// Appends every input's tokens to its sequence and returns each input's last-position logits.
    /// All inputs are checked before anything runs, so a bad input leaves every cache unchanged.
    public func evaluate(_ batch: [SequenceInput]) throws(InferenceError) -> [[Float]] {
        var caches: [KVCache] = []
        var seen = Set<SequenceID>()
        for input in batch {
            let cache = try cacheFor(input.sequence)
            guard seen.insert(input.sequence).inserted else {
                throw InferenceError(.invalidSequence, "\(input.sequence) appears twice in one batch")
            }
            guard !input.tokens.isEmpty else {
                throw InferenceError(.invalidArgument, "\(input.sequence): no tokens to evaluate")
            }
            guard cache.length + input.tokens.count <= cache.capacity else {
                throw InferenceError(.contextOverflow, "\(input.sequence): \(cache.length) cached + \(input.tokens.count) new tokens exceed its capacity of \(cache.capacity) (context length \(config.contextLength))")
            }
            if let bad = input.tokens.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
                throw InferenceError(.invalidToken, "\(input.sequence): token id \(bad) is outside the vocabulary 0..<\(config.vocabularySize)")
            }
            caches.append(cache)
        }
        return passLock.withLock { _ in run(batch, caches) }
    }

    /// Flattens the batch into positions and runs them in passes of at most `maxPassTokens`;
    /// a sequence's logits come from the pass holding its last token.
    private func run(_ batch: [SequenceInput], _ caches: [KVCache]) -> [[Float]] {
        var pending: [(input: Int, token: PassToken)] = []
        for (i, input) in batch.enumerated() {
            for (j, token) in input.tokens.enumerated() {
                pending.append((i, PassToken(cache: caches[i], token: Int(token), position: caches[i].length + j)))
            }
        }
        var results = [[Float]](repeating: [], count: batch.count)
        let vocab = config.vocabularySize
        var start = 0
        while start < pending.count {
            let pass = pending[start..<min(pending.count, start + maxPassTokens)]
            let tokens = pass.map(\.token)
            // Last positions of inputs whose final token falls in this pass.
            var outputs: [Int] = [], owners: [Int] = []
            for (offset, item) in pass.enumerated() where item.token.position == caches[item.input].length + batch[item.input].tokens.count - 1 {
                outputs.append(offset)
                owners.append(item.input)
            }
            forward.run(tokens, outputs: outputs)
            for (row, input) in owners.enumerated() {
                results[input] = Array(UnsafeBufferPointer(start: forward.scratch.logits + row * vocab, count: vocab))
            }
            start += pass.count
        }
        for (i, input) in batch.enumerated() { caches[i].length += input.tokens.count }
        return results
    }
}
