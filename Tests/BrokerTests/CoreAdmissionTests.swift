import Foundation
import Specs
import Synchronization
import Testing
@testable import Broker

/// A clock the test moves by hand (nanoseconds), so refills are exact and nothing sleeps.
/// Counters shared by the contending tasks.
final class Counters: Sendable {
    let inFlight = Atomic<Int>(0), peak = Atomic<Int>(0), admitted = Atomic<Int>(0), overshoots = Atomic<Int>(0)
}

final class ManualClock: Sendable {
    let now = Atomic<UInt64>(1_000_000_000)
    func advance(milliseconds: UInt64) { now.add(milliseconds * 1_000_000, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in now.load(ordering: .relaxed) } }
}

@Suite("Admission: rates, reservations, budget, concurrency")
struct CoreAdmissionTests {
    static func policy(rpm: Int? = nil, tpm: Int? = nil, budget: Int? = nil, concurrent: Int = 64) -> BrokerPolicy {
        BrokerPolicy(rateLimits: .init(requestsPerMinute: rpm, tokensPerMinute: tpm), tokenBudget: budget, maxConcurrent: concurrent)
    }

    @Test("requests per minute: a full minute's burst, then 429 with the wait until one refills")
    func requestRate() throws {
        let clock = ManualClock()
        let admission = Admission(policy: Self.policy(rpm: 3), clock: clock.read)
        for _ in 0..<3 { admission.settle(try admission.admit(.tool), usedTokens: 0) }
        let error = #expect(throws: BrokerError.self) { try admission.admit(.tool) }
        #expect(error?.code == .rateLimited && error?.retryAfterMilliseconds == 20_000)
        #expect(error?.httpStatus == 429)
        clock.advance(milliseconds: 20_000)
        _ = try admission.admit(.tool)
    }

    @Test("tokens are reserved at admission and the unused part refunded at settlement")
    func reservation() throws {
        let clock = ManualClock()
        let admission = Admission(policy: Self.policy(tpm: 1000), clock: clock.read)
        let first = try admission.admit(.model, estimatedTokens: 600)
        let error = #expect(throws: BrokerError.self) { try admission.admit(.model, estimatedTokens: 500) }
        #expect(error?.code == .rateLimited && error?.retryAfterMilliseconds == 6_000)
        admission.settle(first, usedTokens: 100)  // 500 back
        admission.settle(try admission.admit(.model, estimatedTokens: 500), usedTokens: 500)
        #expect(admission.snapshot.spentTokens == 600 && admission.snapshot.reservedTokens == 0)
    }

    @Test("an estimate larger than the per-minute limit is a denial, not a retryable 429")
    func impossibleEstimate() {
        let admission = Admission(policy: Self.policy(tpm: 100), clock: ManualClock().read)
        let error = #expect(throws: BrokerError.self) { try admission.admit(.model, estimatedTokens: 101) }
        #expect(error?.code == .policyDenied && error?.httpStatus == 403)
        #expect(error?.responseHeaders["x-should-retry"] == "false")
    }

    @Test("the budget counts spent and reserved tokens; exhausted is 403, never 429")
    func budget() throws {
        let admission = Admission(policy: Self.policy(rpm: 1, budget: 100), clock: ManualClock().read)
        let ticket = try admission.admit(.model, estimatedTokens: 80)
        let error = #expect(throws: BrokerError.self) { try admission.admit(.model, estimatedTokens: 30) }
        #expect(error?.code == .budgetExhausted && error?.httpStatus == 403)
        admission.settle(ticket, usedTokens: 70)
        #expect(admission.snapshot.spentTokens == 70)
    }

    @Test("concurrent reservations never overshoot the budget or the concurrency limit")
    func concurrentNeverOvershoots() async throws {
        let admission = Admission(policy: Self.policy(tpm: 10_000, budget: 7_000, concurrent: 5), clock: ManualClock().read)
        let counters = Counters()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    for step in 0..<400 {
                        let estimate = 1 + Int(generator.next() % 97) + (worker + step) % 3
                        guard let ticket = try? admission.admit(.model, estimatedTokens: estimate) else { continue }
                        let now = counters.inFlight.add(1, ordering: .relaxed).newValue
                        _ = counters.peak.max(now, ordering: .relaxed)
                        counters.admitted.add(1, ordering: .relaxed)
                        let used = Int(generator.next() % UInt64(estimate + 1))
                        let s = admission.snapshot
                        if s.spentTokens + s.reservedTokens > 7_000 { counters.overshoots.add(1, ordering: .relaxed) }
                        counters.inFlight.subtract(1, ordering: .relaxed)
                        admission.settle(ticket, usedTokens: used)
                    }
                }
            }
        }
        let final = admission.snapshot
        #expect(counters.overshoots.load(ordering: .relaxed) == 0)
        #expect(counters.peak.load(ordering: .relaxed) <= 5)
        #expect(final.inFlight == 0 && final.reservedTokens == 0)
        #expect(final.spentTokens <= 7_000)
        #expect(final.admitted == counters.admitted.load(ordering: .relaxed) && final.admitted > 0 && final.refused > 0)
    }

    @Test("with time frozen and nothing settled, exactly floor(limit / estimate) calls pass, from any number of threads")
    func exactUnderContention() async {
        let admission = Admission(policy: Self.policy(tpm: 1_000), clock: ManualClock().read)
        let counters = Counters()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<50 where (try? admission.admit(.model, estimatedTokens: 30)) != nil {
                        counters.admitted.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(counters.admitted.load(ordering: .relaxed) == 33)
        #expect(admission.snapshot.reservedTokens == 990)
    }

    @Test("the concurrency limit is a 429 with a retry hint and frees on settlement")
    func concurrency() throws {
        let admission = Admission(policy: Self.policy(concurrent: 2), clock: ManualClock().read)
        let a = try admission.admit(.tool), b = try admission.admit(.model, estimatedTokens: 5)
        let error = #expect(throws: BrokerError.self) { try admission.admit(.tool) }
        #expect(error?.code == .tooManyConcurrent && error?.responseHeaders["retry-after-ms"] != nil)
        admission.settle(a, usedTokens: 0)
        admission.settle(try admission.admit(.tool), usedTokens: 0)
        admission.settle(b, usedTokens: 5)
        #expect(admission.snapshot.inFlight == 0)
    }
}
