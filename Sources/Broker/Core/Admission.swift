import Specs
import Synchronization
import TraceStore

/// Admission control for one run: requests and tokens per minute, token budget, concurrency.
/// Tokens are reserved at admission from an estimate and settled with real usage, so concurrent
/// calls cannot overshoot.
///
/// Both rates are token buckets (capacity = the per-minute limit, refilled continuously at
/// limit/60 s), which allow a full minute's burst and then the steady rate, as the per-minute
/// limits of hosted APIs behave. One lock guards all state: an admission is a few comparisons and
/// subtractions, no allocation, so the lock is held for well under a microsecond.
public final class Admission: Sendable {
    /// What an admitted call holds until it is settled (exactly once).
    public struct Ticket: Sendable {
        public let reservedTokens: Int
        public let kind: Kind
    }
    public enum Kind: Sendable { case model, tool }

    /// Bucket levels and reservations, guarded by `state`.
    struct State {
        var inFlight = 0
        var requestLevel: Double
        var tokenLevel: Double
        var lastRefill: UInt64
        /// Tokens settled (really used) this run.
        var spent = 0
        /// Tokens reserved by calls in flight.
        var reserved = 0
        var admitted = 0
        var refused = 0
    }

    let policy: BrokerPolicy
    private let state: Mutex<State>
    private let clock: @Sendable () -> UInt64

    convenience init(policy: BrokerPolicy) { self.init(policy: policy, clock: Admission.monotonicNanoseconds) }

    /// With an injected clock (nanoseconds), so tests can move time without sleeping.
    init(policy: BrokerPolicy, clock: @escaping @Sendable () -> UInt64) {
        self.policy = policy
        self.clock = clock
        state = Mutex(State(requestLevel: Double(policy.rateLimits.requestsPerMinute ?? 0),
                            tokenLevel: Double(policy.rateLimits.tokensPerMinute ?? 0), lastRefill: clock()))
    }

    /// Admits one call or throws `.rateLimited`, `.tooManyConcurrent`, `.budgetExhausted`, or
    /// `.policyDenied` when the estimate could never fit the per-minute token limit.
    public func admit(_ kind: Kind, estimatedTokens: Int = 0) throws(BrokerError) -> Ticket {
        let estimate = kind == .model ? max(0, estimatedTokens) : 0
        if let tpm = policy.rateLimits.tokensPerMinute, estimate > tpm {
            // 429 would make the client retry a request that can never pass.
            throw BrokerError(.policyDenied, "this request may use \(estimate) tokens (prompt + max completion), more than the "
                              + "run's limit of \(tpm) tokens per minute; lower max_completion_tokens or shorten the prompt")
        }
        let now = clock()
        let outcome: Result<Ticket, BrokerError> = state.withLock { s in
            refill(&s, now: now)
            if let failure = check(s, estimate: estimate) {
                s.refused += 1
                return .failure(failure)
            }
            s.inFlight += 1
            if policy.rateLimits.requestsPerMinute != nil { s.requestLevel -= 1 }
            if policy.rateLimits.tokensPerMinute != nil { s.tokenLevel -= Double(estimate) }
            s.reserved += estimate
            s.admitted += 1
            return .success(Ticket(reservedTokens: estimate, kind: kind))
        }
        return try outcome.get()
    }

    /// The first limit that refuses a call of `estimate` tokens now, or nil.
    private func check(_ s: State, estimate: Int) -> BrokerError? {
        if s.inFlight >= policy.maxConcurrent {
            return BrokerError(.tooManyConcurrent, "\(s.inFlight) calls of this run are in flight (limit \(policy.maxConcurrent))",
                               retryAfterMilliseconds: 100)
        }
        // The budget comes before the rates: an exhausted budget must never look retryable.
        if let budget = policy.tokenBudget, s.spent + s.reserved + estimate > budget {
            let left = max(0, budget - s.spent - s.reserved)
            return BrokerError(.budgetExhausted, "the run's token budget of \(budget) is spent: \(s.spent) used, \(s.reserved) "
                               + "reserved by calls in flight, \(left) left; this request may use \(estimate)")
        }
        if let rpm = policy.rateLimits.requestsPerMinute, s.requestLevel < 1 {
            let wait = Self.millisecondsUntil(level: s.requestLevel, needed: 1, perMinute: rpm)
            return BrokerError(.rateLimited, "rate limit of \(rpm) requests per minute reached", retryAfterMilliseconds: wait)
        }
        if let tpm = policy.rateLimits.tokensPerMinute, s.tokenLevel < Double(estimate) {
            let wait = Self.millisecondsUntil(level: s.tokenLevel, needed: Double(estimate), perMinute: tpm)
            return BrokerError(.rateLimited, "rate limit of \(tpm) tokens per minute reached (this request reserves \(estimate))",
                               retryAfterMilliseconds: wait)
        }
        return nil
    }

    /// Ends a call: releases its concurrency slot and replaces the reservation by `usedTokens`.
    public func settle(_ ticket: Ticket, usedTokens: Int) {
        let used = ticket.kind == .model ? max(0, usedTokens) : 0
        let now = clock()
        state.withLock { s in
            refill(&s, now: now)
            s.inFlight = max(0, s.inFlight - 1)
            s.reserved = max(0, s.reserved - ticket.reservedTokens)
            s.spent += used
            if let tpm = policy.rateLimits.tokensPerMinute {
                // A refund when the call used less than it reserved; more (an estimate that was too
                // low) drives the bucket below zero, so later calls wait for it.
                s.tokenLevel = min(Double(tpm), s.tokenLevel + Double(ticket.reservedTokens - used))
            }
        }
    }

    /// Counters for tests, the trace and `warden` output.
    public struct Snapshot: Sendable, Equatable {
        public var inFlight: Int
        public var spentTokens: Int
        public var reservedTokens: Int
        public var admitted: Int
        public var refused: Int
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(inFlight: s.inFlight, spentTokens: s.spent, reservedTokens: s.reserved, admitted: s.admitted, refused: s.refused)
        }
    }

    private func refill(_ s: inout State, now: UInt64) {
        guard now > s.lastRefill else { return }
        let minutes = Double(now - s.lastRefill) / 60e9
        s.lastRefill = now
        if let rpm = policy.rateLimits.requestsPerMinute { s.requestLevel = min(Double(rpm), s.requestLevel + minutes * Double(rpm)) }
        if let tpm = policy.rateLimits.tokensPerMinute { s.tokenLevel = min(Double(tpm), s.tokenLevel + minutes * Double(tpm)) }
    }

    /// How long a bucket refilling at `perMinute` takes from `level` to `needed` (at least 1 ms).
    static func millisecondsUntil(level: Double, needed: Double, perMinute: Int) -> Int {
        let missing = needed - level
        return max(1, Int((missing / Double(perMinute) * 60_000).rounded(.up)))
    }

    @Sendable static func monotonicNanoseconds() -> UInt64 { TraceClock.monotonicNanoseconds() }
}
