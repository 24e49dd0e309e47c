/// The inference pool's public vocabulary (CONTRACT: the broker, `warden serve-model` and the
/// supervisor use these; the pool's implementation may add members but keeps these signatures).

/// Which requests run first when both wait: interactive ones (an agent waiting on an answer) before
/// batch ones (background work).
public enum PoolPriority: Int, Sendable, Comparable, CaseIterable {
    case interactive = 0
    case batch = 1

    public static func < (a: PoolPriority, b: PoolPriority) -> Bool { a.rawValue < b.rawValue }
}

/// How a pool is sized and scheduled.
public struct PoolConfiguration: Sendable, Equatable {
    /// KV cache memory per worker, in bytes (cut into blocks of `blockSize` positions).
    public var kvMemoryBytes: Int = 256 << 20
    /// Positions per KV block.
    public var blockSize: Int = 16
    /// Tokens one scheduler step evaluates at most (decode tokens plus prefill chunks).
    public var maxBatchTokens: Int = 256
    /// Sequences running at once per worker.
    public var maxRunningSequences: Int = 32
    /// Requests waiting per agent; beyond it `submit` fails with `.overloaded`.
    public var maxQueuedPerAgent: Int = 64
    /// Requests waiting in all; beyond it `submit` fails with `.overloaded`.
    public var maxQueuedTotal: Int = 1024
    /// Share full KV blocks between requests with the same prefix.
    public var prefixCaching: Bool = true
    /// Workers kept even when idle.
    public var minWorkers: Int = 1
    /// Workers at most (each holds its own copy of the model and KV arena).
    public var maxWorkers: Int = 1
    /// A new worker starts when the oldest queued request has waited this long (and `maxWorkers` allows).
    public var scaleUpQueueWait: Duration = .milliseconds(500)
    /// A worker idle this long (above `minWorkers`) is stopped and its memory released.
    public var idleRelease: Duration = .seconds(60)
    /// Virtual-token-counter cost of one prompt token and of one generated token (Sheng et al., OSDI'24).
    public var prefillTokenCost: Double = 1
    public var decodeTokenCost: Double = 2
    /// Where the workers run: every GPU found (the default), the CPU only, or chosen GPUs. Read by
    /// whoever makes the pool (``DevicePlacement/resolve(_:source:discover:)``), not by the pool itself.
    public var devices: PoolDevices = .auto
    /// Where `devices` was configured (`file:line:column: $.path`), for the error naming a missing GPU.
    public var devicesSource: String?

    public init() {}
}

/// One generation asked of the pool.
public struct PoolRequest: Sendable {
    /// Who asks: the fairness key (an agent run's id).
    public var agent: String
    /// The agent's share relative to others (policy); 2 gets twice the tokens of 1 under contention.
    public var weight: Double
    /// Interactive or batch.
    public var priority: PoolPriority
    /// What to generate.
    public var generation: GenerationRequest
    /// When to give up (queued or running): the request fails with `.deadlineExceeded`.
    public var deadline: ContinuousClock.Instant?
    /// GPU ordinals whose workers may run it (the agent's policy); nil: any worker. Ignored by a pool
    /// on the CPU.
    public var devices: [Int]?

    public init(agent: String, weight: Double = 1, priority: PoolPriority = .interactive,
                generation: GenerationRequest, deadline: ContinuousClock.Instant? = nil, devices: [Int]? = nil) {
        self.agent = agent
        self.weight = weight
        self.priority = priority
        self.generation = generation
        self.deadline = deadline
        self.devices = devices
    }

    /// Whether a worker on `device` may run it.
    public func allows(_ device: WorkerDevice) -> Bool {
        guard case .gpu(let ordinal) = device, let devices else { return true }
        return devices.contains(ordinal)
    }
}

/// Exact token accounting of one request.
public struct PoolUsage: Sendable, Equatable {
    /// Prompt tokens (all of them, cached or not).
    public var promptTokens: Int
    /// Prompt tokens whose KV came from the prefix cache instead of being computed.
    public var cachedPromptTokens: Int
    /// Generated tokens.
    public var completionTokens: Int

    public init(promptTokens: Int, cachedPromptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.completionTokens = completionTokens
    }
}

/// How a request finished.
public struct PoolCompletion: Sendable {
    /// The generation's outcome (text, tokens, finish reason).
    public var result: GenerationResult
    /// Token accounting.
    public var usage: PoolUsage
    /// From submit until its first token was scheduled.
    public var queued: Duration
    /// From submit until its first generated token.
    public var timeToFirstToken: Duration?
    /// Times it was preempted (its blocks freed and recomputed later).
    public var preemptions: Int

    public init(result: GenerationResult, usage: PoolUsage, queued: Duration, timeToFirstToken: Duration?, preemptions: Int) {
        self.result = result
        self.usage = usage
        self.queued = queued
        self.timeToFirstToken = timeToFirstToken
        self.preemptions = preemptions
    }
}

/// What a ticket yields, in order: text pieces as they become final, then exactly one end event.
public enum PoolEvent: Sendable {
    /// A piece of generated text (never half a code point, never part of a stop string).
    case text(String)
    /// The request ended normally.
    case finished(PoolCompletion)
    /// The request failed (`.cancelled`, `.deadlineExceeded`, `.contextOverflow`, a backend error...).
    case failed(InferenceError)
}
