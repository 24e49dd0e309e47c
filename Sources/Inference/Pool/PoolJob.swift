#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One request inside the pool, from submit to its end event: owned by the fair queue while it waits
/// (under the pool's lock) and by one worker thread while it runs, never by both.
final class PoolJob: @unchecked Sendable {
    let id: UInt64
    /// The request, `maxTokens` already capped to the context.
    let request: PoolRequest
    /// Where its events go.
    let channel: EventChannel
    let submitted: ContinuousClock.Instant
    /// Set by `PoolTicket.cancel()` or `cancelAll(agent:)`; the owning worker ends the job at its next step.
    let cancelled = Atomic<Bool>(false)

    // The rest is touched only by the current owner. On a worker that overlaps output processing,
    // `state`, `firstToken` and `lastToken` of a job whose outputs are in flight belong to the
    // worker's output processor from launch to join (see OutputProcessor).
    /// Sampler, generated tokens and text stream: kept across preemptions so the output continues
    /// exactly where it was.
    var state: GenerationState
    /// When it last entered the queue (submit, or a preemption).
    var enqueued: ContinuousClock.Instant
    /// Whether the prompt's cost was charged to the agent's counter.
    var charged = false
    var firstScheduled: ContinuousClock.Instant?
    var firstToken: ContinuousClock.Instant?
    var lastToken: ContinuousClock.Instant?

    /// Marks a token generated at `now`: returns the wait for the first token since submission, or
    /// the gap since the previous token, in milliseconds (for the step's latency figures).
    func noteToken(at now: ContinuousClock.Instant) -> (firstToken: Double?, interToken: Double?) {
        defer { lastToken = now }
        guard firstToken != nil else {
            firstToken = now
            return ((now - submitted).milliseconds, nil)
        }
        return (nil, lastToken.map { (now - $0).milliseconds })
    }
    var preemptions = 0
    /// Prompt tokens served from the prefix cache at the first admission.
    var cachedPromptTokens: Int?

    init(id: UInt64, request: PoolRequest, state: GenerationState, now: ContinuousClock.Instant) {
        self.id = id
        self.request = request
        self.state = state
        channel = EventChannel()
        submitted = now
        enqueued = now
    }

    var agent: String { request.agent }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Whether its deadline has passed at `now`.
    func isLate(_ now: ContinuousClock.Instant) -> Bool {
        guard let deadline = request.deadline else { return false }
        return now >= deadline
    }

    /// Prompt then generated tokens: what its KV must hold before the next token can be sampled.
    var allTokens: [Int32] { request.generation.prompt + state.tokens }

    /// Ends the job with `error` (at most one end event reaches the ticket); `whenEnded` runs only if
    /// this call ended it, before the reader can see the event (so counters are current when it does).
    @discardableResult
    func fail(_ error: InferenceError, whenEnded: () -> Void = {}) -> Bool {
        channel.end(.failed(error), whenEnded: whenEnded)
    }

    /// The completion event's contents.
    func completion(now: ContinuousClock.Instant) -> PoolCompletion {
        let prompt = request.generation.prompt.count
        return PoolCompletion(
            result: state.result,
            usage: PoolUsage(promptTokens: prompt, cachedPromptTokens: cachedPromptTokens ?? 0,
                             completionTokens: state.tokens.count),
            queued: (firstScheduled ?? now) - submitted,
            timeToFirstToken: firstToken.map { $0 - submitted },
            preemptions: preemptions)
    }
}

/// Monotonic nanoseconds for `ConditionLock`'s timed waits and for step timing.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

extension Duration {
    /// Whole nanoseconds, clamped at zero.
    var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return UInt64.max / 2 }
        return UInt64(nanos.partialValue) + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// Milliseconds as a Double.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
