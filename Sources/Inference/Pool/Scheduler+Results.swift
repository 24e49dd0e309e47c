extension Scheduler {
    /// One scheduler step: drop ended sequences, admit, plan, evaluate once, sample and stream.
    func step() {
        let stepStart = monotonicNanos()
        record = StepRecord()
        let now = ContinuousClock.now
        dropEnded(now: now)
        admit(now: now)
        let plan = planBatch()
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

    /// Evaluates the batch in one call. When it fails, each entry is evaluated alone (a bad batch
    /// changes no cache, and a position rewritten with the same tokens gets the same KV), so only the
    /// entries that fail on their own fail their requests.
    func evaluate(_ plan: [PlannedEntry]) -> [Result<[Float], InferenceError>] {
        let entries = plan.map { planned in
            let sequence = planned.sequence
            let end = sequence.computed + planned.count
            return BatchEntry(blocks: sequence.blocks, start: sequence.computed,
                              tokens: Array(sequence.tokens[sequence.computed..<end]),
                              wantsLogits: end == sequence.tokens.count)
        }
        do {
            let rows = try backend.evaluate(entries)
            guard rows.count == entries.count else {
                let error = InferenceError(.invalidArgument, "the backend returned \(rows.count) rows for \(entries.count) entries")
                return entries.map { _ in .failure(error) }
            }
            return rows.map { .success($0) }
        } catch {
            guard entries.count > 1 else { return [.failure(error)] }
            return entries.map { entry in
                do throws(InferenceError) {
                    return .success(try backend.evaluate([entry]).first ?? [])
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    /// Advances each sequence by its evaluated tokens; those that asked for logits sample their next
    /// token and stream its text; finished ones end, register their blocks and free them.
    func apply(_ plan: [PlannedEntry], _ results: [Result<[Float], InferenceError>]) {
        let now = ContinuousClock.now
        let vocabulary = backend.config.vocabularySize
        for (planned, result) in zip(plan, results) {
            let sequence = planned.sequence
            let job = sequence.job
            let logits: [Float]
            switch result {
            case .failure(let error):
                job.fail(error) { core.recorder.count(\.failures) }
                release(sequence)
                continue
            case .success(let row):
                logits = row
            }
            let start = sequence.computed
            sequence.computed += planned.count
            record.promptTokensComputed += max(0, min(sequence.computed, job.request.generation.prompt.count) - start)
            registerFullBlocks(sequence)
            guard sequence.computed == sequence.tokens.count else { continue }
            guard logits.count == vocabulary else {
                let error = InferenceError(.invalidArgument, "the backend returned \(logits.count) logits, expected \(vocabulary)")
                job.fail(error) { core.recorder.count(\.failures) }
                release(sequence)
                continue
            }
            let (token, text) = logits.withUnsafeBufferPointer { job.state.step(logits: $0) }
            sequence.tokens.append(token)
            job.channel.push(text: text)
            noteToken(job, now: now)
            if job.state.finishReason != nil { finish(sequence, now: now) }
        }
    }

    private func noteToken(_ job: PoolJob, now: ContinuousClock.Instant) {
        if job.firstToken == nil {
            job.firstToken = now
            record.timesToFirstToken.append((now - job.submitted).milliseconds)
        } else if let last = job.lastToken {
            record.interTokenLatencies.append((now - last).milliseconds)
        }
        job.lastToken = now
        record.generatedTokens += 1
        uncharged[job.agent, default: 0] += 1
    }

    /// Registers newly completed full blocks in the prefix cache.
    private func registerFullBlocks(_ sequence: RunningSequence) {
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
