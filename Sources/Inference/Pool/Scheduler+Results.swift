/// What the backend returned for one entry: its logits row, or the token it picked itself.
enum StepOutput {
    case logits([Float])
    case token(Int32)
}

extension Scheduler {
    /// What every step starts with, plain or overlapped: a fresh record, ended sequences dropped,
    /// waiting jobs admitted, the batch planned. Returns the step's start and its `now`.
    func beginStep() -> (start: UInt64, now: ContinuousClock.Instant, plan: [PlannedEntry]) {
        let start = monotonicNanos()
        record = StepRecord()
        let now = ContinuousClock.now
        dropEnded(now: now)
        admit(now: now)
        return (start, now, planBatch())
    }

    /// One scheduler step: drop ended sequences, admit, plan, evaluate once, sample and stream.
    func step() {
        if overlaps { return stepOverlapped() }
        let (stepStart, _, plan) = beginStep()
        requeuePreempted()
        var modelNanos: UInt64 = 0
        if !plan.isEmpty {
            let modelStart = monotonicNanos()
            let results = evaluate(plan)
            modelNanos = monotonicNanos() - modelStart
            apply(plan, results)
        }
        record.sequences = plan.count
        record.modelNanos = modelNanos
        record.schedulerNanos = monotonicNanos() - stepStart - modelNanos
        core.recorder.recordStep(record, worker: workerID, snapshot: snapshot)
    }

    /// The worker's state for metrics.
    var snapshot: WorkerSnapshot {
        WorkerSnapshot(running: running.count, lastBatchSize: record.sequences, blocksUsed: allocator.usedCount,
                       blocksShared: allocator.sharedCount, blocksCached: allocator.cachedCount,
                       blocksTotal: allocator.blockCount)
    }

    /// Evaluates the batch in one call. When every entry ends in a sample and every sampler is plain
    /// (greedy or temperature only), the backend picks the tokens itself (`evaluate(_:choosing:)`: a
    /// GPU copies back one id per sequence instead of a row of logits); otherwise it returns logits
    /// and the samplers pick. When the call fails, each entry is evaluated alone (a bad batch changes
    /// no cache, and a position rewritten with the same tokens gets the same KV), so only the entries
    /// that fail on their own fail their requests.
    func evaluate(_ plan: [PlannedEntry]) -> [Result<StepOutput, InferenceError>] {
        let entries = plan.map { planned in
            let sequence = planned.sequence
            let end = sequence.computed + planned.count
            return BatchEntry(blocks: sequence.blocks, start: sequence.computed,
                              tokens: Array(sequence.tokens[sequence.computed..<end]),
                              wantsLogits: end == sequence.tokens.count)
        }
        if let choices = tokenChoices(plan, entries) {
            record.chosenOnBackend += entries.count
            return evaluateEach(entries, whole: { () throws(InferenceError) in try backend.evaluate(entries, choosing: choices).map(StepOutput.token) },
                                alone: { (i) throws(InferenceError) in try backend.evaluate([entries[i]], choosing: [choices[i]]).map(StepOutput.token) })
        }
        return evaluateEach(entries, whole: { () throws(InferenceError) in try backend.evaluate(entries).map(StepOutput.logits) },
                            alone: { (i) throws(InferenceError) in try backend.evaluate([entries[i]]).map(StepOutput.logits) })
    }

    /// Each entry's token choice when the backend may pick all of them, else nil (and no sampler's
    /// generator is touched).
    private func tokenChoices(_ plan: [PlannedEntry], _ entries: [BatchEntry]) -> [TokenChoice]? {
        if overlaps { return pickerChoices(plan, entries) }
        guard entries.allSatisfy(\.wantsLogits), plan.allSatisfy({ $0.sequence.job.state.hasPlainSampler }) else { return nil }
        var choices: [TokenChoice] = []
        for planned in plan {
            guard let choice = planned.sequence.job.state.nextChoice() else { return nil }
            choices.append(choice)
        }
        return choices
    }

    /// Runs `whole` (one call for the batch) and, when it fails, `alone` for each entry.
    private func evaluateEach(_ entries: [BatchEntry], whole: () throws(InferenceError) -> [StepOutput],
                              alone: (Int) throws(InferenceError) -> [StepOutput]) -> [Result<StepOutput, InferenceError>] {
        do {
            let outputs = try whole()
            guard outputs.count == entries.count else {
                let error = InferenceError(.invalidArgument, "the backend returned \(outputs.count) results for \(entries.count) entries")
                return entries.map { _ in .failure(error) }
            }
            return outputs.map { .success($0) }
        } catch {
            guard entries.count > 1 else { return [.failure(error)] }
            return entries.indices.map { i in
                do throws(InferenceError) {
                    guard let output = try alone(i).first else {
                        return .failure(InferenceError(.invalidArgument, "the backend returned no result for an entry"))
                    }
                    return .success(output)
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    /// Advances each sequence by its evaluated tokens; those that end in a sample take their next
    /// token (picked by the backend, or sampled here from the logits) and stream its text; finished
    /// ones end, register their blocks and free them.
    func apply(_ plan: [PlannedEntry], _ results: [Result<StepOutput, InferenceError>]) {
        let now = ContinuousClock.now
        for (planned, result) in zip(plan, results) {
            let sequence = planned.sequence
            let job = sequence.job
            guard let output = advanceComputed(planned, result) else { continue }
            let picked: (token: Int32, text: String)
            switch pick(output, job: job) {
            case .failure(let error):
                job.fail(error) { core.recorder.count(\.failures) }
                release(sequence)
                continue
            case .success(let value):
                picked = value
            }
            sequence.tokens.append(picked.token)
            job.channel.push(text: picked.text)
            noteToken(job, now: now)
            if job.state.finishReason != nil { finish(sequence, now: now) }
        }
    }

    /// The common start of applying one entry's result: a failure fails the job and frees its blocks;
    /// otherwise the sequence advances by the evaluated tokens and registers its full blocks. Returns
    /// the output when the sequence now ends in a sample (its next token is due), else nil.
    func advanceComputed(_ planned: PlannedEntry, _ result: Result<StepOutput, InferenceError>) -> StepOutput? {
        let sequence = planned.sequence, job = sequence.job
        let output: StepOutput
        switch result {
        case .failure(let error):
            job.fail(error) { core.recorder.count(\.failures) }
            release(sequence)
            return nil
        case .success(let value):
            output = value
        }
        let start = sequence.computed
        sequence.computed += planned.count
        record.promptTokensComputed += max(0, min(sequence.computed, job.request.generation.prompt.count) - start)
        registerFullBlocks(sequence)
        return sequence.computed == sequence.tokens.count ? output : nil
    }

    /// The next token and its text from a step's output, or why the output is unusable.
    private func pick(_ output: StepOutput, job: PoolJob) -> Result<(token: Int32, text: String), InferenceError> {
        let vocabulary = backend.config.vocabularySize
        switch output {
        case .logits(let logits):
            guard logits.count == vocabulary else {
                return .failure(InferenceError(.invalidArgument, "the backend returned \(logits.count) logits, expected \(vocabulary)"))
            }
            return .success(logits.withUnsafeBufferPointer { job.state.step(logits: $0) })
        case .token(let token):
            guard token >= 0, Int(token) < vocabulary else {
                return .failure(InferenceError(.invalidArgument, "the backend picked token \(token), outside the vocabulary of \(vocabulary)"))
            }
            return .success(job.state.step(chosen: token))
        }
    }

    private func noteToken(_ job: PoolJob, now: ContinuousClock.Instant) {
        let latency = job.noteToken(at: now)
        if let wait = latency.firstToken { record.timesToFirstToken.append(wait) }
        if let gap = latency.interToken { record.interTokenLatencies.append(gap) }
        record.generatedTokens += 1
        uncharged[job.agent, default: 0] += 1
    }

    /// Registers newly completed full blocks in the prefix cache.
    func registerFullBlocks(_ sequence: RunningSequence) {
        guard allocator.prefixCaching, sequence.computed / layout.blockSize > sequence.registered else { return }
        sequence.registered = allocator.register(blocks: sequence.blocks, tokens: sequence.tokens, computed: sequence.computed)
    }

    /// Ends a finished sequence: its completion goes to the ticket, its blocks back to the arena
    /// (full ones stay cached for later requests with the same prefix).
    func finish(_ sequence: RunningSequence, now: ContinuousClock.Instant) {
        registerFullBlocks(sequence)
        sequence.job.channel.end(.finished(sequence.job.completion(now: now))) { core.recorder.recordCompletion() }
        release(sequence)
    }

    /// Fails every running sequence with `error` and frees their blocks (the worker is stopping).
    func failAll(_ error: InferenceError) {
        for sequence in running {
            sequence.job.fail(error)
            release(sequence)
        }
    }
}
