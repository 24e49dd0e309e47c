#if canImport(Glibc)
import Glibc
#endif
import HostOS
import Synchronization

/// One sequence's new token from a step, handed to the output processor.
struct OutputItem {
    let job: PoolJob
    let token: Int32
}

/// What processing one step's outputs produced, taken by the scheduler thread after the join.
struct ProcessedOutputs {
    /// Which items (indices into the batch) ended their generation: their channels got `.finished`.
    var finished: [Int] = []
    var generatedTokens = 0
    var timesToFirstToken: [Double] = []
    var interTokenLatencies: [Double] = []
    /// Generated tokens per agent, for the fair queue's charge.
    var generatedByAgent: [String: Int] = [:]
}

/// A point in the processing of a step's outputs, for tests that check the overlap by event order.
enum OutputProcessingEvent: Sendable, Equatable {
    /// Processing of the outputs of the scheduler's `evaluation`-th evaluate call began / ended.
    case began(evaluation: UInt64)
    case ended(evaluation: UInt64)
}

/// Where tests listen to the processor's events (read at every batch, so it may be set after the
/// pool started).
final class OutputObserverSlot: Sendable {
    let handler = Mutex<(@Sendable (OutputProcessingEvent) -> Void)?>(nil)
}

/// The second thread of an overlapping worker (vLLM's async output processing): it turns a step's
/// tokens into text, stop decisions, ticket events and metrics while the scheduler thread plans and
/// evaluates the next step.
///
/// Hand-off: `launch` gives the thread a batch of items; from then until `join` returns, the thread
/// alone touches those items' jobs' `state` (GenerationState), `firstToken`/`lastToken`, and ends
/// their channels when they finish (reading `completion`, so the scheduler defers its writes to
/// `preemptions`/`enqueued` of in-flight jobs until after the join). The scheduler thread keeps the
/// sequences, block tables, allocator, samplers (``RunningSequence/picker``) and its step record, and
/// takes the batch's ``ProcessedOutputs`` at the join. The lock's release at the end of processing
/// and its acquire in `join` order the two threads' accesses.
final class OutputProcessor: @unchecked Sendable {
    private let lock = ConditionLock()
    private let recorder: PoolMetricsRecorder
    private let observer: OutputObserverSlot
    private var thread: pthread_t?
    // Under `lock`:
    private var work: (items: [OutputItem], evaluation: UInt64)?
    private var done: ProcessedOutputs?
    private var inFlight = false
    private var stopping = false

    init(recorder: PoolMetricsRecorder, observer: OutputObserverSlot) {
        self.recorder = recorder
        self.observer = observer
    }

    /// Starts processing `items` (the outputs of the `evaluation`-th evaluate call) on the thread;
    /// without a thread (the system refused one) they are processed here, before returning.
    func launch(_ items: [OutputItem], evaluation: UInt64) {
        if thread == nil && !startThread() {
            let result = Self.process(items, evaluation: evaluation, recorder: recorder, observer: observer)
            lock.withLock {
                done = result
                inFlight = true
            }
            return
        }
        lock.withLock {
            work = (items, evaluation)
            inFlight = true
            lock.broadcast()
        }
    }

    /// Waits for the launched batch and returns what it produced; nil when none was launched.
    func join() -> ProcessedOutputs? {
        lock.withLock {
            guard inFlight else { return nil }
            while done == nil { lock.wait() }
            defer {
                done = nil
                inFlight = false
            }
            return done
        }
    }

    /// Whether a launched batch was not joined yet.
    var hasInFlight: Bool { lock.withLock { inFlight } }

    /// Ends the thread (after a join: a launched batch is finished first).
    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func startThread() -> Bool {
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<OutputProcessor>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<OutputProcessor>.fromOpaque(box).release()
            return false
        }
        thread = handle
        return true
    }

    private func run() {
        while true {
            let next: (items: [OutputItem], evaluation: UInt64)? = lock.withLock {
                while work == nil && !stopping { lock.wait() }
                defer { work = nil }
                return work
            }
            guard let next else { return }
            let result = Self.process(next.items, evaluation: next.evaluation, recorder: recorder, observer: observer)
            lock.withLock {
                done = result
                lock.broadcast()
            }
        }
    }

    /// The host half of applying a step (what `Scheduler.apply` does after appending the token): text
    /// through each job's GenerationState, ticket events, first-token and inter-token times, and the
    /// end of generations that finished.
    static func process(_ items: [OutputItem], evaluation: UInt64, recorder: PoolMetricsRecorder,
                        observer slot: OutputObserverSlot) -> ProcessedOutputs {
        let observer = slot.handler.withLock { $0 }
        observer?(.began(evaluation: evaluation))
        let now = ContinuousClock.now
        var result = ProcessedOutputs()
        for (index, item) in items.enumerated() {
            let job = item.job
            let picked = job.state.step(chosen: item.token)
            job.channel.push(text: picked.text)
            let latency = job.noteToken(at: now)
            if let wait = latency.firstToken { result.timesToFirstToken.append(wait) }
            if let gap = latency.interToken { result.interTokenLatencies.append(gap) }
            result.generatedTokens += 1
            result.generatedByAgent[job.agent, default: 0] += 1
            guard job.state.finishReason != nil else { continue }
            job.channel.end(.finished(job.completion(now: now))) { recorder.recordCompletion() }
            result.finished.append(index)
        }
        observer?(.ended(evaluation: evaluation))
        return result
    }
}
