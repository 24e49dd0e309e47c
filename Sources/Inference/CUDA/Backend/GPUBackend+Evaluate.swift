/// Batches into passes, each pass's uploads, launches (recorded or direct) and downloads.
extension GPUBackend {
    public func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        for (i, entry) in batch.enumerated() { try entry.check(index: i, config: config, layout: kvLayout) }
        return try lock.withLock { _ throws(InferenceError) in try run(batch, choices: nil).logits }
    }

    /// Evaluates `batch` and picks each entry's next token on the device (argmax, or sampling when any
    /// entry samples), copying back one id per entry instead of its logits.
    public func evaluate(_ batch: [BatchEntry], choosing choices: [TokenChoice]) throws(InferenceError) -> [Int32] {
        guard choices.count == batch.count, batch.allSatisfy(\.wantsLogits) else {
            throw InferenceError(.invalidArgument, "\(choices.count) token choices for a batch of \(batch.count) entries (each must want logits)")
        }
        for (i, entry) in batch.enumerated() { try entry.check(index: i, config: config, layout: kvLayout) }
        return try lock.withLock { _ throws(InferenceError) in try run(batch, choices: choices).tokens }
    }

    /// One pass's host-side inputs.
    struct Pass {
        var tokens: [Int32] = [], positions: [Int32] = [], tableStarts: [Int32] = [], tables: [Int32] = []
        /// Rows of the pass whose logits are wanted, and the batch entry each belongs to.
        var outputRows: [Int32] = [], owners: [Int] = []
        /// Where each entry's table starts in `tables`, once the pass holds it.
        var tableOf: [Int: Int32] = [:]
    }

    /// Cuts the batch's positions into passes of at most `maxPassTokens`; each pass carries the block
    /// tables (only the blocks its entries' positions reach) of the entries it holds.
    func passes(_ batch: [BatchEntry]) -> [Pass] {
        var result: [Pass] = [], pass = Pass()
        for (i, entry) in batch.enumerated() {
            let used = kvLayout.blocks(for: entry.start + entry.tokens.count)
            for (j, token) in entry.tokens.enumerated() {
                if pass.tokens.count == maxPassTokens {
                    result.append(pass)
                    pass = Pass()
                }
                let start: Int32
                if let s = pass.tableOf[i] {
                    start = s
                } else {
                    start = Int32(pass.tables.count)
                    pass.tableOf[i] = start
                    pass.tables.append(contentsOf: entry.blocks.prefix(used))
                }
                if entry.wantsLogits && j == entry.tokens.count - 1 {
                    pass.outputRows.append(Int32(pass.tokens.count))
                    pass.owners.append(i)
                }
                pass.tokens.append(token)
                pass.positions.append(Int32(entry.start + j))
                pass.tableStarts.append(start)
            }
        }
        if !pass.tokens.isEmpty { result.append(pass) }
        return result
    }

    /// Runs every pass; returns each entry's logits (nil choices) or chosen token.
    ///
    /// Nothing waits between passes: each pass's inputs go up, its launches and its download follow
    /// in stream order, and the host prepares the next pass (its arrays, the copy into pinned
    /// staging) while the device still runs the previous one. The downloads land in one host buffer
    /// that outlives every pass; a single synchronize at the end hands them over.
    func run(_ batch: [BatchEntry], choices: [TokenChoice]?) throws(InferenceError) -> (logits: [[Float]], tokens: [Int32]) {
        let vocab = config.vocabularySize
        let plan = passes(batch)
        let outputs = plan.reduce(0) { $0 + $1.outputRows.count }
        let width = choices == nil ? vocab * MemoryLayout<Float>.size : MemoryLayout<Int32>.size
        let landing = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, outputs * width), alignment: 64)
        var synchronized = false
        defer {
            // A pass that failed may leave downloads queued into `landing`: settle them before it goes.
            if !synchronized { try? device.synchronize() }
            landing.deallocate()
        }
        var owners: [Int] = []
        for pass in plan {
            try upload(pass)
            try launchPass(tokens: pass.tokens.count, outputs: pass.outputRows.count)
            let s = pass.outputRows.count
            guard s > 0 else { continue }
            let slot = UnsafeMutableRawBufferPointer(rebasing: landing[owners.count * width..<(owners.count + s) * width])
            if let choices {
                try choose(pass.owners.map { choices[$0] })
                try device.download(buffers.chosen, offset: 0, into: slot)
            } else {
                try device.download(buffers.logits, offset: 0, into: slot)
            }
            owners += pass.owners
        }
        synchronized = true
        try device.synchronize()
        var logits = [[Float]](repeating: [], count: batch.count)
        var tokens = [Int32](repeating: 0, count: batch.count)
        for (row, entry) in owners.enumerated() {
            if choices != nil {
                tokens[entry] = landing.load(fromByteOffset: row * width, as: Int32.self)
            } else {
                let floats = UnsafeRawBufferPointer(rebasing: landing[row * width..<(row + 1) * width])
                logits[entry] = Array(floats.bindMemory(to: Float.self))
            }
        }
        return (logits, tokens)
    }

    private func upload(_ pass: Pass) throws(InferenceError) {
        let p = buffers.tokens
        var step = [Int32](repeating: 0, count: 4 * p)
        for (k, array) in [pass.tokens, pass.positions, pass.tableStarts, pass.outputRows].enumerated() {
            step.replaceSubrange(k * p..<k * p + array.count, with: array)
        }
        try Inference.upload(step, to: buffers.step, on: device)
        try Inference.upload(pass.tables, to: buffers.tables, on: device)
    }

    /// Replays the recording for this shape (recording it first when new), or launches directly.
    private func launchPass(tokens t: Int, outputs s: Int) throws(InferenceError) {
        tally.passes += 1
        guard usesGraphs else {
            tally.launchesLastPass = try issuePass(tokens: t, outputs: s)
            return
        }
        let shape = RecordingCache.Shape(tokens: t, outputs: s)
        let (step, new) = try recordings.step(for: shape, device: device) { () throws(InferenceError) in try issuePass(tokens: t, outputs: s) }
        if new { tally.recordingsMade += 1 } else { tally.replays += 1 }
        tally.launchesLastPass = step.launchCount
        try device.replay(step)
    }

    /// Argmax (every choice greedy) or sampling over the pass's logits rows, into `chosen`.
    private func choose(_ choices: [TokenChoice]) throws(InferenceError) {
        let s = choices.count, b = buffers, vocab = Int32(config.vocabularySize)
        if choices.allSatisfy({ $0 == .greedy }) {
            try device.launch(.argmax, Self.rows(s), [.buffer(b.logits), .int32(vocab), .buffer(b.chosen)])
        } else {
            var parameters = [Float](repeating: 0, count: 2 * s)
            for (i, choice) in choices.enumerated() {
                if case .sample(let temperature, let uniform) = choice {
                    parameters[i] = temperature
                    parameters[s + i] = uniform
                }
            }
            try Inference.upload(parameters, to: b.choice, on: device)
            try device.launch(.sample, Self.rows(s), [.buffer(b.logits), .int32(vocab), .buffer(b.choice),
                                                 .pointer(b.choice, offset: 4 * s), .buffer(b.chosen)])
        }
    }
}
