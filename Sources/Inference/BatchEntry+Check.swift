/// The checks every backend runs on a batch before anything runs (shared by CPUBackend and GPUBackend,
/// so both refuse the same batches with the same errors).
extension BatchEntry {
    /// Throws, naming entry `index`, when this entry cannot run on a backend with `config` and `layout`:
    /// no tokens, a negative start, positions past the context, too few blocks, a block outside the
    /// arena, or a token outside the vocabulary.
    func check(index i: Int, config: ModelConfig, layout: KVLayout) throws(InferenceError) {
        let end = start + tokens.count
        guard !tokens.isEmpty else { throw InferenceError(.invalidArgument, "batch entry \(i): no tokens to evaluate") }
        guard start >= 0 else { throw InferenceError(.invalidArgument, "batch entry \(i): negative start \(start)") }
        guard end <= config.contextLength else {
            throw InferenceError(.contextOverflow, "batch entry \(i): \(start) cached + \(tokens.count) new tokens exceed the context length \(config.contextLength)")
        }
        guard blocks.count >= layout.blocks(for: end) else {
            throw InferenceError(.invalidArgument, "batch entry \(i): \(blocks.count) blocks cannot hold \(end) positions (\(layout.blockSize) per block)")
        }
        if let bad = blocks.first(where: { $0 < 0 || Int($0) >= layout.blockCount }) {
            throw InferenceError(.invalidArgument, "batch entry \(i): block \(bad) is outside the arena 0..<\(layout.blockCount)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
            throw InferenceError(.invalidToken, "batch entry \(i): token id \(bad) is outside the vocabulary 0..<\(config.vocabularySize)")
        }
    }
}
