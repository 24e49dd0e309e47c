/// Why a sequence taken out of the batch while outputs were in flight leaves the worker; its job is
/// ended (or requeued) only after the join, when its GenerationState is the scheduler's again.
enum DeferredEnd {
    case cancelled
    case late
    /// The arena cannot hold its next position (it ran alone): it ends as if its context were full.
    case contextFull
    case preempted
}

extension Scheduler {
    /// One step of a worker whose backend overlaps output processing (vLLM's async output processing):
    ///
    ///     scheduler thread: drop, admit, plan N+1, evaluate N+1 | join | settle | advance N+1 | launch
    ///     processor thread: text, stops, events, metrics of step N |
    ///
    /// `advance` appends each sequence's token (the next step's input) on this thread; the processor
    /// turns the tokens into text and finish decisions while the next step is planned and evaluated.
    /// A sequence it finds finished was already part of that next step: its extra token is dropped
    /// (no position advanced, no block registered, nothing streamed or counted) and its blocks are
    /// freed after that step. Cancellations, deadlines and preemptions found meanwhile take the
    /// sequence out of the batch at once (blocks are this thread's) and end or requeue its job after
    /// the join. See ``OutputProcessor`` for which thread touches what. The step record's scheduler
    /// time includes any wait at the join (processing the evaluate did not hide).
    func stepOverlapped() {
        let (stepStart, now, plan) = beginStep()
        var modelNanos: UInt64 = 0
        var results: [Result<StepOutput, InferenceError>] = []
        if !plan.isEmpty {
            evaluations += 1
            let modelStart = monotonicNanos()
            results = evaluate(plan)
            modelNanos = monotonicNanos() - modelStart
        }
        joinOutputs()
        endDeferred()
        let items = advance(plan, results)
        if let processor, !items.isEmpty { processor.launch(items, evaluation: evaluations) }
        record.sequences = plan.count
        record.modelNanos = modelNanos
        record.schedulerNanos = monotonicNanos() - stepStart - modelNanos
        core.recorder.recordStep(record, worker: workerID, snapshot: snapshot)
    }

    /// The overlapped `dropEnded`: cancelled and late sequences leave the batch now; their jobs fail
    /// after the join (the processor may be finishing them, and a finish of the step before wins, as
    /// it does without overlap). Channels are looked at only after the join.
    func detachEnded(now: ContinuousClock.Instant) {
        for sequence in running {
            if sequence.job.isCancelled {
                detach(sequence, .cancelled)
            } else if sequence.job.isLate(now) {
                detach(sequence, .late)
            }
        }
    }

    /// Frees a sequence's blocks and takes it out of the running set without touching its job.
    func detach(_ sequence: RunningSequence, _ reason: DeferredEnd) {
        guard sequence.isActive else { return }
        sequence.isActive = false
        allocator.free(sequence.blocks)
        sequence.blocks = []
        running.removeAll { $0 === sequence }
        deferredEnds.append((sequence, reason))
    }

    /// Waits for the outputs in flight: sequences they finished free their blocks (their share of the
    /// step just evaluated is dropped by `advance`), and their counts join this step's record.
    func joinOutputs() {
        guard let processor, let processed = processor.join() else { return }
        for index in processed.finished where inFlight.indices.contains(index) && inFlight[index].isActive {
            registerFullBlocks(inFlight[index])
            release(inFlight[index])
        }
        inFlight = []
        record.generatedTokens += processed.generatedTokens
        record.timesToFirstToken += processed.timesToFirstToken
        record.interTokenLatencies += processed.interTokenLatencies
        for (agent, tokens) in processed.generatedByAgent { uncharged[agent, default: 0] += tokens }
    }

    /// Ends or requeues the jobs of sequences taken out while outputs were in flight (after the join),
    /// and releases sequences whose requests were ended from outside.
    func endDeferred() {
        let now = ContinuousClock.now
        for (sequence, reason) in deferredEnds {
            let job = sequence.job
            switch reason {
            case .cancelled:
                job.fail(InferenceError(.cancelled, "the request was cancelled")) { core.recorder.count(\.cancellations) }
            case .late:
                job.fail(Self.deadlineError(job)) { core.recorder.count(\.deadlineMisses) }
            case .contextFull:
                guard !job.channel.hasEnded else { break }
                job.channel.push(text: job.state.endForContext())
                job.channel.end(.finished(job.completion(now: now))) { core.recorder.recordCompletion() }
            case .preempted:
                // Finished by the outputs in flight: nothing to resume.
                guard !job.channel.hasEnded else { break }
                if let picker = sequence.picker { job.state.sampler = picker }
                job.preemptions += 1
                job.enqueued = .now
                preempted.append(job)
                core.recorder.count(\.preemptions)
                continue
            }
            if job.channel.hasEnded { core.jobEnded(job) }
        }
        deferredEnds.removeAll()
        for sequence in running where sequence.job.channel.hasEnded { release(sequence) }
        requeuePreempted()
    }

    /// The scheduler thread's half of `apply`: advances each sequence by its evaluated tokens, picks
    /// the next token of those that end in a sample and appends it (the next step's input). Returns
    /// the tokens for the processor. Sequences no longer active (finished by the outputs just joined)
    /// are skipped: their extra token is discarded.
    func advance(_ plan: [PlannedEntry], _ results: [Result<StepOutput, InferenceError>]) -> [OutputItem] {
        var items: [OutputItem] = []
        for (planned, result) in zip(plan, results) {
            let sequence = planned.sequence
            guard sequence.isActive else { continue }
            let job = sequence.job
            guard let output = advanceComputed(planned, result) else { continue }
            switch choose(output, for: sequence) {
            case .failure(let error):
                job.fail(error) { core.recorder.count(\.failures) }
                release(sequence)
            case .success(let token):
                sequence.tokens.append(token)
                items.append(OutputItem(job: job, token: token))
                inFlight.append(sequence)
            }
        }
        return items
    }

    /// The next token from a step's output: the backend's pick, or a draw from the logits by the
    /// sequence's sampler over its tokens (the history GenerationState would use); or why the output
    /// is unusable.
    private func choose(_ output: StepOutput, for sequence: RunningSequence) -> Result<Int32, InferenceError> {
        let vocabulary = backend.config.vocabularySize
        switch output {
        case .logits(let logits):
            guard logits.count == vocabulary else {
                return .failure(InferenceError(.invalidArgument, "the backend returned \(logits.count) logits, expected \(vocabulary)"))
            }
            let history = sequence.tokens[...]
            guard let token = logits.withUnsafeBufferPointer({ sequence.picker?.sample($0, history: history) }) else {
                return .failure(InferenceError(.invalidArgument, "the sequence has no sampler on an overlapping worker"))
            }
            return .success(token)
        case .token(let token):
            guard token >= 0, Int(token) < vocabulary else {
                return .failure(InferenceError(.invalidArgument, "the backend picked token \(token), outside the vocabulary of \(vocabulary)"))
            }
            return .success(token)
        }
    }

    /// `tokenChoices` on an overlapping worker: the choices come from the sequences' own samplers.
    func pickerChoices(_ plan: [PlannedEntry], _ entries: [BatchEntry]) -> [TokenChoice]? {
        guard entries.allSatisfy(\.wantsLogits), plan.allSatisfy({ $0.sequence.picker?.isPlain == true }) else { return nil }
        var choices: [TokenChoice] = []
        for planned in plan {
            guard let choice = planned.sequence.picker?.nextChoice() else { return nil }
            choices.append(choice)
        }
        return choices
    }

    /// Joins the outputs in flight and ends the processing thread (the worker is stopping).
    func stopOverlap() {
        guard let processor else { return }
        joinOutputs()
        processor.stop()
    }
}
