import Foundation
import Testing
@testable import Inference

/// A backend that forwards to another and says whether the pool should overlap output processing:
/// forces overlap on for a CPU backend (or off for a GPU one), and logs each evaluate call.
final class ForwardingBackend: InferenceBackend, @unchecked Sendable {
    let inner: any InferenceBackend
    let overlaps: Bool
    let log: StepLog?

    init(_ inner: any InferenceBackend, overlaps: Bool, log: StepLog? = nil) {
        self.inner = inner
        self.overlaps = overlaps
        self.log = log
    }

    var config: ModelConfig { inner.config }
    var name: String { "forwarding(\(inner.name))" }
    var kvLayout: KVLayout { inner.kvLayout }
    var overlapsOutputProcessing: Bool { overlaps }

    func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        let call = log?.evaluateBegan()
        defer { if let call { log?.evaluateEnded(call) } }
        return try inner.evaluate(batch)
    }

    func evaluate(_ batch: [BatchEntry], choosing choices: [TokenChoice]) throws(InferenceError) -> [Int32] {
        let call = log?.evaluateBegan()
        defer { if let call { log?.evaluateEnded(call) } }
        return try inner.evaluate(batch, choosing: choices)
    }
}

/// The order of evaluate calls and of the output processor's batches (never their times).
///
/// With `heldStep` k, the processing of step k's outputs waits until evaluate k+1 began, and
/// evaluate k+1 waits until that processing ended: a pool that really overlaps passes through; one
/// that processes between steps would wait on itself, so the waits give up after a long timeout and
/// record it.
final class StepLog: @unchecked Sendable {
    enum Event: Equatable {
        case evaluateBegan(UInt64)
        case evaluateEnded(UInt64)
        case processBegan(UInt64)
        case processEnded(UInt64)
    }

    private let condition = NSCondition()
    private var recorded: [Event] = []
    private var calls: UInt64 = 0
    private var gaveUp = false
    let heldStep: UInt64?

    init(heldStep: UInt64? = nil) { self.heldStep = heldStep }

    var events: [Event] { condition.withLock { recorded } }
    var timedOut: Bool { condition.withLock { gaveUp } }

    func evaluateBegan() -> UInt64 {
        condition.withLock {
            calls += 1
            let call = calls
            record(.evaluateBegan(call))
            if let held = heldStep, call == held + 1 { waitFor(.processEnded(held)) }
            return call
        }
    }

    func evaluateEnded(_ call: UInt64) { condition.withLock { record(.evaluateEnded(call)) } }

    func observe(_ event: OutputProcessingEvent) {
        condition.withLock {
            switch event {
            case .began(let step):
                record(.processBegan(step))
                if step == heldStep { waitFor(.evaluateBegan(step + 1)) }
            case .ended(let step):
                record(.processEnded(step))
            }
        }
    }

    /// Steps k whose processing interval intersects evaluate k+1's.
    var overlappedSteps: [UInt64] {
        let list = events
        let steps = list.compactMap { event -> UInt64? in
            if case .processBegan(let step) = event { return step }
            return nil
        }
        return steps.filter { step in
            guard let processBegan = list.firstIndex(of: .processBegan(step)), let processEnded = list.firstIndex(of: .processEnded(step)),
                  let nextBegan = list.firstIndex(of: .evaluateBegan(step + 1)),
                  let nextEnded = list.firstIndex(of: .evaluateEnded(step + 1)) else { return false }
            return processBegan < nextEnded && nextBegan < processEnded
        }
    }

    private func record(_ event: Event) {
        recorded.append(event)
        condition.broadcast()
    }

    /// Waits (lock held) until `event` was recorded, giving up after two minutes.
    private func waitFor(_ event: Event) {
        let deadline = Date(timeIntervalSinceNow: 120)
        while !recorded.contains(event) {
            if !condition.wait(until: deadline) {
                gaveUp = true
                return
            }
        }
    }
}

/// Holds a pool's workers in their backend factory until the test opened it, so every request is
/// queued before the first step (admission, and so prefix-cache hits, do not depend on timing).
final class StartGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func wait() {
        condition.withLock { while !isOpen { condition.wait() } }
    }

    func open() {
        condition.withLock {
            isOpen = true
            condition.broadcast()
        }
    }
}

/// What a ticket yielded, compared between a run with overlap and one without.
struct Outcome: Equatable, CustomStringConvertible {
    var streamed: String
    var text: String?
    var tokens: [Int32]?
    var finishReason: FinishReason?
    var stopString: String?
    var usage: PoolUsage?
    var error: InferenceError.Code?

    init(streamed: String, end: PoolEvent?) {
        self.streamed = streamed
        text = end?.completion?.result.text
        tokens = end?.completion?.result.tokens
        finishReason = end?.completion?.result.finishReason
        stopString = end?.completion?.result.stopString
        usage = end?.completion?.usage
        error = end?.error?.code
    }

    var description: String {
        "\(finishReason.map { "\($0)" } ?? error?.rawValue ?? "no end") \(usage.map { "\($0.completionTokens)" } ?? "-") \(streamed.debugDescription)"
    }
}

/// Runs one workload through a pool and collects each request's outcome.
enum OverlapRun {
    /// Submits every request while the worker is held, opens it, and drains the tickets; the request
    /// at `cancelAfterText` is cancelled once its first text arrived.
    static func outcomes(_ pool: InferencePool, gate: StartGate, _ requests: [PoolRequest],
                         cancelAfterText: Int? = nil) throws -> [Outcome] {
        let tickets = try requests.map { try pool.submit($0) }
        gate.open()
        var outcomes = [Outcome?](repeating: nil, count: tickets.count)
        if let index = cancelAfterText {
            var streamed = ""
            if case .text(let piece)? = tickets[index].next(timeout: .seconds(300)) { streamed = piece }
            tickets[index].cancel()
            let rest = PoolFixture.drain(tickets[index], timeout: .seconds(300))
            outcomes[index] = Outcome(streamed: streamed + rest.text, end: rest.end)
        }
        for (index, ticket) in tickets.enumerated() where outcomes[index] == nil {
            let (text, end) = PoolFixture.drain(ticket, timeout: .seconds(300))
            outcomes[index] = Outcome(streamed: text, end: end)
        }
        return outcomes.map { $0 ?? Outcome(streamed: "", end: nil) }
    }
}
