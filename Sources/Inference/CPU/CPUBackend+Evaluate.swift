extension CPUBackend {
    /// Appends every entry's tokens to its sequence and returns each entry's last-position logits.
    /// All entries are checked before anything runs, so a bad entry leaves every block unchanged.
    public func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        for (i, entry) in batch.enumerated() { try entry.check(index: i, config: config, layout: kvLayout) }
        return passLock.withLock { _ in run(batch) }
    }

    /// Flattens the batch into positions and runs them in passes of at most `maxPassTokens`; an entry's
    /// logits come from the pass holding its last token. Block tables are copied into one buffer that
    /// outlives every pass (the forward pass reads them by pointer).
    private func run(_ batch: [BatchEntry]) -> [[Float]] {
        let tableCount = batch.reduce(0) { $0 + $1.blocks.count }
        let tables = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tableCount))
        defer { tables.deallocate() }
        var pending: [(entry: Int, token: PassToken, last: Bool)] = []
        var offset = 0
        for (i, entry) in batch.enumerated() {
            let table = tables + offset
            entry.blocks.withUnsafeBufferPointer { table.update(from: $0.baseAddress!, count: $0.count) }
            offset += entry.blocks.count
            for (j, token) in entry.tokens.enumerated() {
                pending.append((i, PassToken(table: UnsafePointer(table), token: Int(token), position: entry.start + j),
                                entry.wantsLogits && j == entry.tokens.count - 1))
            }
        }
        var results = [[Float]](repeating: [], count: batch.count)
        let vocab = config.vocabularySize
        var start = 0
        while start < pending.count {
            let pass = pending[start..<min(pending.count, start + maxPassTokens)]
            var outputs: [Int] = [], owners: [Int] = []
            for (position, item) in pass.enumerated() where item.last {
                outputs.append(position)
                owners.append(item.entry)
            }
            forward.run(pass.map(\.token), outputs: outputs)
            for (row, entry) in owners.enumerated() {
                results[entry] = Array(UnsafeBufferPointer(start: forward.scratch.logits + row * vocab, count: vocab))
            }
            start += pass.count
        }
        return results
    }
}
