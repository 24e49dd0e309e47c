/// A sequence a worker is serving: its job, the tokens its KV must hold, and its block table.
final class RunningSequence {
    let job: PoolJob
    /// Admission order on this worker: among equal priorities the most recent is preempted first.
    let order: UInt64
    /// Prompt then generated tokens; the last one is not yet in the cache after each sample.
    var tokens: [Int32]
    /// Physical blocks holding positions `0 ..< computed` (and room allocated beyond).
    var blocks: [Int32]
    /// Positions whose KV is in the cache.
    var computed: Int
    /// Leading blocks already registered in the prefix cache.
    var registered = 0
    /// False once it finished, failed or was preempted.
    var isActive = true
    /// On an overlapping worker, the job's sampler while it runs here (the job's GenerationState
    /// belongs to the output processor meanwhile); written back when it is preempted.
    var picker: Sampler?

    init(job: PoolJob, order: UInt64, tokens: [Int32], blocks: [Int32], computed: Int) {
        self.job = job
        self.order = order
        self.tokens = tokens
        self.blocks = blocks
        self.computed = computed
    }

    /// Tokens still to evaluate before the next sample: 1 while decoding, more while prefilling.
    var pending: Int { tokens.count - computed }
    var priority: PoolPriority { job.request.priority }

    /// Scheduling order: priority tier first, then admission order.
    func runsBefore(_ other: RunningSequence) -> Bool {
        (priority.rawValue, order) < (other.priority.rawValue, other.order)
    }
}

/// One sequence's share of a step: `count` tokens from position `computed`.
struct PlannedEntry {
    let sequence: RunningSequence
    var count: Int
}

/// One worker's scheduler: admits from the shared fair queue at step boundaries, plans each step's
/// batch (decodes first, then prefill chunks, at most `maxBatchTokens` tokens), preempts when KV
/// blocks run out, evaluates once, and applies the results (Scheduler+Results.swift).
final class Scheduler {
    let core: PoolCore
    let backend: any InferenceBackend
    let layout: KVLayout
    let workerID: ObjectIdentifier
    /// Where this worker runs: it admits only requests whose policy allows that device.
    let device: WorkerDevice
    var allocator: BlockAllocator
    var running: [RunningSequence] = []
    var admissions: UInt64 = 0
    /// Jobs preempted while planning, requeued at the front once the plan is made.
    var preempted: [PoolJob] = []
    /// Generated tokens per agent not yet charged to the fair queue (charged at the next admission).
    var uncharged: [String: Int] = [:]
    var record = StepRecord()
    /// Whether the backend asked for output processing overlapped with the next step
    /// (Scheduler+Overlap.swift); nil processor otherwise.
    let overlaps: Bool
    let processor: OutputProcessor?
    /// The sequences whose outputs the processor has, in the order of its items.
    var inFlight: [RunningSequence] = []
    /// Sequences taken out while outputs were in flight, whose jobs are ended or requeued after the join.
    var deferredEnds: [(sequence: RunningSequence, reason: DeferredEnd)] = []
    /// Evaluate calls made (the processor's events name them).
    var evaluations: UInt64 = 0

    init(core: PoolCore, backend: any InferenceBackend, workerID: ObjectIdentifier, device: WorkerDevice) {
        self.core = core
        self.backend = backend
        self.workerID = workerID
        self.device = device
        layout = backend.kvLayout
        overlaps = backend.overlapsOutputProcessing
        processor = overlaps ? OutputProcessor(recorder: core.recorder, observer: core.outputObserver) : nil
        allocator = BlockAllocator(blockSize: layout.blockSize, blockCount: layout.blockCount,
                                   prefixCaching: core.configuration.prefixCaching)
    }

    var maxBatchTokens: Int { max(1, core.configuration.maxBatchTokens) }

    /// Ends sequences that were cancelled, missed their deadline or were ended from outside
    /// (shutdown), freeing their blocks now.
    func dropEnded(now: ContinuousClock.Instant) {
        if overlaps { return detachEnded(now: now) }
        for sequence in running {
            let job = sequence.job
            if job.isCancelled {
                job.fail(InferenceError(.cancelled, "the request was cancelled")) { core.recorder.count(\.cancellations) }
            } else if job.isLate(now) {
                job.fail(Self.deadlineError(job)) { core.recorder.count(\.deadlineMisses) }
            } else if !job.channel.hasEnded {
                continue
            }
            release(sequence)
        }
    }

    static func deadlineError(_ job: PoolJob) -> InferenceError {
        InferenceError(.deadlineExceeded, "the request's deadline passed after \(job.state.tokens.count) generated tokens")
    }

    /// Takes requests from the fair queue while sequences and blocks allow; a request whose KV
    /// cannot fit in the whole arena fails here instead of waiting forever.
    func admit(now: ContinuousClock.Instant) {
        let maxRunning = max(1, core.configuration.maxRunningSequences)
        core.lock.withLock {
            for (agent, tokens) in uncharged { core.queue.chargeDecode(agent: agent, generated: tokens) }
            uncharged.removeAll(keepingCapacity: true)
            let device = self.device
            let eligible: (PoolJob) -> Bool = { $0.request.allows(device) }
            while running.count < maxRunning, let job = core.queue.peek(where: eligible) {
                if let error = fitContext(job) {
                    _ = core.queue.dequeue(where: eligible)
                    job.fail(error) { core.recorder.count(\.failures) }
                    core.jobEnded(job)
                    continue
                }
                let tokens = job.allTokens
                if leavesForPrefixHolder(tokens, job: job) { break }
                let needed = layout.blocks(for: tokens.count)
                if job.isCancelled || job.isLate(now) || needed > allocator.blockCount {
                    _ = core.queue.dequeue(where: eligible)
                    refuseAtAdmission(job, now: now, needed: needed)
                    continue
                }
                let matched = allocator.match(tokens)
                // Leave one block of growth per running sequence, so admitting does not force a
                // preemption in the very next step.
                let headroom = running.count
                guard allocator.availableCount >= needed - matched.count + headroom else {
                    allocator.free(matched)
                    break
                }
                _ = core.queue.dequeue(where: eligible)
                start(job, tokens: tokens, matched: matched, now: now)
            }
            publishPrefixes(maxRunning: maxRunning)
        }
    }

    /// Prefix-aware routing across workers: a busy worker leaves a request whose first block it does
    /// not hold to another worker that holds it and has room, so a shared system prompt is computed
    /// once per pool rather than once per worker. An idle worker takes it anyway (an idle worker is
    /// worth more than a cache hit), so nothing waits on a busy holder. Pool lock held.
    private func leavesForPrefixHolder(_ tokens: [Int32], job: PoolJob) -> Bool {
        let size = layout.blockSize
        guard allocator.prefixCaching, !running.isEmpty, tokens.count > size, core.prefixDirectory.count > 1 else { return false }
        let first = Array(tokens[0..<size])
        guard !allocator.holdsChainStart(first) else { return false }
        return core.prefixDirectory.contains {
            $0.key != workerID && $0.value.hasRoom && job.request.allows($0.value.device) && $0.value.chainStarts.contains(first)
        }
    }

    /// Publishes this worker's chain starts and room when they changed (pool lock held).
    private func publishPrefixes(maxRunning: Int) {
        guard allocator.prefixCaching else { return }
        let hasRoom = running.count < maxRunning && allocator.availableCount * 4 >= allocator.blockCount
        let current = core.prefixDirectory[workerID]
        if let current, current.version == allocator.chainStartsVersion, current.hasRoom == hasRoom { return }
        let starts = current?.version == allocator.chainStartsVersion ? current?.chainStarts ?? [] : allocator.chainStarts
        core.prefixDirectory[workerID] = WorkerPrefixes(chainStarts: starts, version: allocator.chainStartsVersion, hasRoom: hasRoom,
                                                        device: device)
    }

    /// Requests submitted before any worker knew the context are checked against it here, and their
    /// `maxTokens` capped, before they generate anything.
    private func fitContext(_ job: PoolJob) -> InferenceError? {
        let context = backend.config.contextLength
        var generation = job.state.request
        guard job.state.tokens.isEmpty, generation.prompt.count + generation.maxTokens > context else { return nil }
        do {
            try InferencePool.fit(&generation, context: context)
            job.state = try GenerationState(generation, tokenizer: core.tokenizer)
            return nil
        } catch {
            return error
        }
    }

    private func start(_ job: PoolJob, tokens: [Int32], matched: [Int32], now: ContinuousClock.Instant) {
        let computed = matched.count * layout.blockSize
        let sequence = RunningSequence(job: job, order: admissions, tokens: tokens, blocks: matched, computed: computed)
        sequence.registered = matched.count
        admissions += 1
        if job.cachedPromptTokens == nil {
            let hits = min(computed, job.request.generation.prompt.count)
            job.cachedPromptTokens = hits
            core.recorder.count(\.prefixHitTokens, by: hits)
        }
        if job.firstScheduled == nil { job.firstScheduled = now }
        if overlaps { sequence.picker = job.state.sampler }
        running.append(sequence)
    }

    private func refuseAtAdmission(_ job: PoolJob, now: ContinuousClock.Instant, needed: Int) {
        if job.isCancelled {
            job.fail(InferenceError(.cancelled, "the request was cancelled")) { core.recorder.count(\.cancellations) }
        } else if job.isLate(now) {
            job.fail(Self.deadlineError(job)) { core.recorder.count(\.deadlineMisses) }
        } else {
            job.fail(InferenceError(.contextOverflow, """
                the request needs \(needed) KV blocks of \(layout.blockSize) positions but a worker's arena holds \
                \(allocator.blockCount): raise kvMemoryBytes or shorten the prompt
                """)) { core.recorder.count(\.failures) }
        }
        core.jobEnded(job)
    }

    /// This step's batch: every decoding sequence's next token, then prefill chunks in scheduling
    /// order, within `maxBatchTokens`; blocks are allocated here, preempting when they run out.
    func planBatch() -> [PlannedEntry] {
        running.sort { $0.runsBefore($1) }
        var plan: [PlannedEntry] = []
        var budget = maxBatchTokens
        for sequence in running where sequence.pending == 1 {
            guard budget > 0 else { break }
            guard sequence.isActive else { continue }
            if reserve(sequence, positions: sequence.computed + 1, plan: &plan, budget: &budget) == nil {
                endWithoutRoom(sequence)
                continue
            }
            guard sequence.isActive else { continue }
            plan.append(PlannedEntry(sequence: sequence, count: 1))
            budget -= 1
        }
        for sequence in running where sequence.pending > 1 {
            guard budget > 0 else { break }
            guard sequence.isActive else { continue }
            let wanted = min(sequence.pending, budget)
            let held = reserve(sequence, positions: sequence.computed + wanted, plan: &plan, budget: &budget) ?? 0
            let count = min(wanted, held - sequence.computed)
            guard count > 0, sequence.isActive else { continue }
            plan.append(PlannedEntry(sequence: sequence, count: count))
            budget -= count
        }
        return plan
    }

    /// Allocates blocks until `sequence` can hold `positions`, preempting sequences that run after it
    /// when none are left. Returns the positions its blocks now hold, or nil when it got no room at
    /// all and nobody after it could be preempted.
    private func reserve(_ sequence: RunningSequence, positions: Int, plan: inout [PlannedEntry], budget: inout Int) -> Int? {
        while sequence.blocks.count < layout.blocks(for: positions) {
            if let block = allocator.allocate() {
                sequence.blocks.append(block)
            } else if let victim = running.last(where: { $0.isActive }), victim !== sequence, sequence.runsBefore(victim) {
                preempt(victim, plan: &plan, budget: &budget)
            } else {
                break
            }
        }
        let held = sequence.blocks.count * layout.blockSize
        return held > sequence.computed ? held : nil
    }

    /// A decode that found no block: it is preempted itself (vLLM's rule) unless it runs alone, in
    /// which case the arena cannot hold it and it ends as if its context were full.
    private func endWithoutRoom(_ sequence: RunningSequence) {
        if running.contains(where: { $0.isActive && $0 !== sequence }) {
            var none: [PlannedEntry] = []
            var budget = 0
            preempt(sequence, plan: &none, budget: &budget)
        } else if overlaps {
            registerFullBlocks(sequence)
            detach(sequence, .contextFull)
        } else {
            sequence.job.channel.push(text: sequence.job.state.endForContext())
            finish(sequence, now: .now)
        }
    }

    /// Frees a sequence's blocks and sends its job back to the front of its agent's queue; it resumes
    /// by recomputing its tokens, with its generation state intact.
    func preempt(_ victim: RunningSequence, plan: inout [PlannedEntry], budget: inout Int) {
        if let index = plan.firstIndex(where: { $0.sequence === victim }) {
            budget += plan[index].count
            plan.remove(at: index)
        }
        if overlaps { return detach(victim, .preempted) }
        victim.job.preemptions += 1
        victim.job.enqueued = .now
        preempted.append(victim.job)
        core.recorder.count(\.preemptions)
        release(victim)
    }

    /// Frees a sequence's blocks and takes it out of the running set.
    func release(_ sequence: RunningSequence) {
        guard sequence.isActive else { return }
        sequence.isActive = false
        allocator.free(sequence.blocks)
        sequence.blocks = []
        running.removeAll { $0 === sequence }
        if !sequence.job.channel.hasEnded { return }
        core.jobEnded(sequence.job)
    }

    /// Sends this step's preempted jobs back to the queue (most recently preempted last, so the
    /// earlier-admitted one is in front).
    func requeuePreempted() {
        guard !preempted.isEmpty else { return }
        core.lock.withLock {
            for job in preempted { core.queue.enqueue(job, atFront: true) }
            core.lock.broadcast()
        }
        preempted.removeAll()
    }
}
