/// Serves many agents' generations from one model: requests wait in fair per-agent queues, workers
/// (one thread and one backend each) run them in continuously batched steps over a paged KV cache
/// with prefix sharing, and each request streams its text through a ``PoolTicket``.
///
/// Thread-safe; `submit` never blocks on the model. Workers start on demand between `minWorkers` and
/// `maxWorkers` (see ``PoolConfiguration``), each calling `makeBackend` with the KV budget.
public final class InferencePool: Sendable {
    private let core: PoolCore

    /// A pool on the CPU over backends made by `makeBackend(kvMemoryBytes, blockSize)`; `minWorkers` of
    /// them are started now (in the background: the first requests wait for them).
    public convenience init(configuration: PoolConfiguration, tokenizer: Tokenizer,
                            makeBackend: @escaping @Sendable (_ kvMemoryBytes: Int, _ blockSize: Int) throws(InferenceError) -> any InferenceBackend) {
        self.init(configuration: configuration, tokenizer: tokenizer, placement: .cpu) { (_, kv: Int, block: Int) throws(InferenceError) in
            try makeBackend(kv, block)
        }
    }

    /// A pool whose workers run where `placement` says: one per GPU (started now, kept while the pool
    /// lives), or CPU workers between `minWorkers` and `maxWorkers`. Each worker's backend is
    /// `makeBackend(device, kvMemoryBytes, blockSize)`.
    /// `notice` receives operator messages (a worker whose backend cannot start, once per device and reason).
    public init(configuration: PoolConfiguration, tokenizer: Tokenizer, placement: DevicePlacement,
                notice: @escaping @Sendable (String) -> Void = { _ in }, makeBackend: @escaping PoolBackendFactory) {
        core = PoolCore(configuration: configuration, tokenizer: tokenizer, placement: placement, notice: notice, makeBackend: makeBackend)
        core.startControlThread()
    }

    /// Where the workers run.
    public var placement: DevicePlacement { core.placement }

    /// Where tests listen to overlapping workers' output processing (``OutputProcessor``).
    var outputObserver: OutputObserverSlot { core.outputObserver }

    deinit { core.shutdown() }

    /// Queues `request` and returns its ticket. Bad requests fail here with a precise error; full
    /// queues fail with `.overloaded` and a `retryAfterMilliseconds`; a shut-down pool with `.unavailable`.
    public func submit(_ request: PoolRequest) throws(InferenceError) -> PoolTicket {
        let bounded = try validated(request)
        let state = try GenerationState(bounded.generation, tokenizer: core.tokenizer)
        let pool = core
        let id = pool.lock.withLock {
            pool.nextJobID += 1
            return pool.nextJobID
        }
        let job = PoolJob(id: id, request: bounded, state: state, now: .now)
        try pool.enqueue(job)
        return PoolTicket(job: job) { pool.cancel($0) }
    }

    /// Submits `request` and waits for it, passing each piece of text to `onText`.
    public func generate(_ request: PoolRequest, onText: (String) -> Void = { _ in }) throws(InferenceError) -> PoolCompletion {
        try submit(request).wait(onText: onText)
    }

    /// Cancels every request of `agent` (its run ended): waiting ones end now, running ones at their
    /// worker's next step, with their KV blocks freed.
    public func cancelAll(agent: String) { core.cancelAll(agent: agent) }

    /// The pool's current metrics.
    public func metrics() -> PoolMetrics {
        var metrics = core.recorder.snapshot()
        core.lock.withLock {
            metrics.queueDepthByAgent = core.queue.depthByAgent
            metrics.workers = core.workers.count
        }
        return metrics
    }

    /// Stops the pool: waiting and running requests fail with `.unavailable`, threads are joined,
    /// backends released. Idempotent.
    public func shutdown() { core.shutdown() }

    /// `request` checked against the tokenizer and (once a worker has loaded the model) the context,
    /// with `maxTokens` capped so prompt plus completion fit in the context.
    private func validated(_ request: PoolRequest) throws(InferenceError) -> PoolRequest {
        var request = request
        let prompt = request.generation.prompt
        guard !prompt.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty") }
        guard request.weight > 0, request.weight.isFinite else {
            throw InferenceError(.invalidArgument, "the agent's weight must be a positive number (got \(request.weight))")
        }
        guard request.generation.maxTokens >= 1 else {
            throw InferenceError(.invalidArgument, "max_tokens must be >= 1 (got \(request.generation.maxTokens))")
        }
        let vocabulary = core.tokenizer.vocabularySize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw InferenceError(.invalidToken, "prompt token \(bad) is outside the vocabulary of \(vocabulary)")
        }
        let gpus = core.placement.gpus
        if let allowed = request.devices, !gpus.isEmpty, !gpus.contains(where: allowed.contains) {
            throw InferenceError(.unavailable, """
                the agent's policy keeps its model requests on GPUs \(allowed.map(String.init).joined(separator: ", ")) \
                but the inference pool runs on GPUs \(gpus.map(String.init).joined(separator: ", "))
                """)
        }
        if let context = core.lock.withLock({ core.contextLength }) {
            try Self.fit(&request.generation, context: context)
        }
        return request
    }

    /// Checks the prompt leaves room to generate in `context` and caps `maxTokens` to what is left
    /// (OpenAI's rule: prompt plus completion fit in the context).
    static func fit(_ generation: inout GenerationRequest, context: Int) throws(InferenceError) {
        guard generation.prompt.count < context else {
            throw InferenceError(.contextOverflow, """
                the prompt is \(generation.prompt.count) tokens but the model's context holds \(context) \
                (and at least one more is needed to generate): shorten the prompt
                """)
        }
        generation.maxTokens = min(generation.maxTokens, context - generation.prompt.count)
    }
}
