#if canImport(Glibc)
import Glibc
#endif
import HostOS
import Synchronization

/// A worker's published prefix-cache summary.
struct WorkerPrefixes {
    /// The first block of each cached chain.
    var chainStarts: Set<[Int32]>
    /// The allocator's version these came from.
    var version: Int
    /// Whether the worker can admit more now (a sequence slot and a quarter of its blocks available).
    var hasRoom: Bool
    /// Where the worker runs (a request may be kept off some GPUs by its policy).
    var device: WorkerDevice
}

/// The pool's shared state: the fair queue, the workers, and the lock and condition every thread of
/// the pool waits on (submitters, workers, the control thread). ``InferencePool`` is its public face.
final class PoolCore: @unchecked Sendable {
    let configuration: PoolConfiguration
    let placement: DevicePlacement
    let tokenizer: Tokenizer
    let makeBackend: PoolBackendFactory
    let recorder = PoolMetricsRecorder()
    /// Requests not yet ended, by id, for `cancelAll(agent:)`.
    let live = Mutex<[UInt64: PoolJob]>([:])

    /// Guards everything below; broadcast on every change a waiter may care about.
    let lock = ConditionLock()
    var queue: FairQueue
    /// Workers started and not stopped (loading or serving).
    var workers: [PoolWorker] = []
    /// Workers whose threads ended or are ending, to be joined.
    var exited: [PoolWorker] = []
    var shuttingDown = false
    var shutdownComplete = false
    var nextJobID: UInt64 = 0
    /// The model's context, once a worker has created its backend.
    var contextLength: Int?
    /// Why the last worker could not start, and when (a failing factory is retried at most once a second).
    var lastStartError: InferenceError?
    /// Where operator messages go (info level): a worker that cannot start, once per device and reason.
    let notice: @Sendable (String) -> Void
    /// The start failure last reported for each device (lock held), so a retry every second that
    /// fails the same way is not reported again.
    var reportedStartFailures: [WorkerDevice: String] = [:]
    var lastStartFailure: ContinuousClock.Instant?
    var controlThread: pthread_t?
    /// What each serving worker's prefix cache starts with, for routing a request to the worker that
    /// holds its prefix (see `Scheduler.leavesForPrefixHolder`).
    var prefixDirectory: [ObjectIdentifier: WorkerPrefixes] = [:]
    /// Tests listen here to overlapping workers' output processing.
    let outputObserver = OutputObserverSlot()

    init(configuration: PoolConfiguration, tokenizer: Tokenizer, placement: DevicePlacement,
         notice: @escaping @Sendable (String) -> Void = { _ in }, makeBackend: @escaping PoolBackendFactory) {
        self.configuration = configuration
        self.placement = placement
        self.notice = notice
        self.tokenizer = tokenizer
        self.makeBackend = makeBackend
        queue = FairQueue(configuration: configuration)
    }

    /// Workers not asked to stop (lock held).
    var activeWorkerCount: Int { workers.reduce(0) { $0 + ($1.stopRequested ? 0 : 1) } }

    /// Workers kept even when idle: every GPU's, or `minWorkers` on the CPU.
    var minimumWorkers: Int { placement.usesGPUs ? placement.gpus.count : max(0, configuration.minWorkers) }
    /// Workers at most: one per GPU, or `maxWorkers` on the CPU.
    var maximumWorkers: Int { placement.usesGPUs ? placement.gpus.count : max(minimumWorkers, configuration.maxWorkers, 1) }

    /// The device for a new worker: a GPU without an active worker, or the CPU (lock held).
    func deviceForNewWorker() -> WorkerDevice? {
        guard placement.usesGPUs else { return .cpu }
        let taken = Set(workers.filter { !$0.stopRequested }.map(\.device))
        return placement.gpus.map(WorkerDevice.gpu).first { !taken.contains($0) }
    }

    /// Queues a new job, or refuses it when the pool is shut down or its queues are full.
    func enqueue(_ job: PoolJob) throws(InferenceError) {
        try lock.withLock { () throws(InferenceError) in
            guard !shuttingDown else { throw InferenceError(.unavailable, "the inference pool is shut down") }
            if let refusal = queue.refusal(for: job.agent) {
                recorder.count(\.rejections)
                throw overloadError(refusal, agent: job.agent)
            }
            queue.enqueue(job)
            live.withLock { $0[job.id] = job }
            lock.broadcast()
        }
    }

    /// The 429: which limit, and a wait estimated from the recent completion rate (the queue ahead of
    /// the request must drain first).
    private func overloadError(_ refusal: FairQueue.Refusal, agent: String) -> InferenceError {
        var error: InferenceError
        // Under VTC each backlogged agent gets about one completion per round, so a full agent
        // queue frees a slot after one round; a full pool after the next completion anywhere.
        let completionsNeeded: Double
        switch refusal {
        case .agentFull(let queued):
            error = InferenceError(.overloaded, "agent \(agent) has \(queued) requests waiting (the limit is \(queue.maxQueuedPerAgent))")
            completionsNeeded = Double(max(1, queue.depthByAgent.count))
        case .totalFull(let queued):
            error = InferenceError(.overloaded, "the pool has \(queued) requests waiting (the limit is \(queue.maxQueuedTotal))")
            completionsNeeded = 1
        }
        var milliseconds = 1000.0
        if let rate = recorder.completionsPerSecond, rate > 0 { milliseconds = completionsNeeded / rate * 1000 }
        error.retryAfterMilliseconds = Int(min(60_000, max(10, milliseconds.rounded(.up))))
        return error
    }

    /// Ends a waiting job at once; a running one is ended by its worker at the next step.
    func cancel(_ job: PoolJob) {
        let removed = lock.withLock { queue.removeAll { $0 === job } }
        for job in removed { failCancelled(job) }
    }

    /// Cancels every request of `agent`, waiting or running.
    func cancelAll(agent: String) {
        let removed: [PoolJob] = lock.withLock {
            live.withLock { jobs in
                for job in jobs.values where job.agent == agent { job.cancelled.store(true, ordering: .relaxed) }
            }
            return queue.removeAll { $0.agent == agent }
        }
        for job in removed { failCancelled(job) }
    }

    private func failCancelled(_ job: PoolJob) {
        job.fail(InferenceError(.cancelled, "the request was cancelled")) { recorder.count(\.cancellations) }
        jobEnded(job)
    }

    /// Forgets an ended job.
    func jobEnded(_ job: PoolJob) { _ = live.withLock { $0.removeValue(forKey: job.id) } }

    /// Fails waiting jobs whose deadline passed (running ones are checked by their workers).
    func expireWaiting(now: ContinuousClock.Instant) {
        let late = lock.withLock { queue.removeAll { $0.isLate(now) } }
        for job in late {
            job.fail(Scheduler.deadlineError(job)) { recorder.count(\.deadlineMisses) }
            jobEnded(job)
        }
    }

    /// Stops the pool: waiting requests fail with `.unavailable`, running ones too at their worker's
    /// next step, and every thread is joined. A second call waits for the first to complete.
    func shutdown() {
        let first: Bool = lock.withLock {
            guard shuttingDown else {
                shuttingDown = true
                lock.broadcast()
                return true
            }
            while !shutdownComplete { lock.wait() }
            return false
        }
        guard first else { return }
        let (waiting, control): ([PoolJob], pthread_t?) = lock.withLock {
            defer { controlThread = nil }
            return (queue.removeAll { _ in true }, controlThread)
        }
        for job in waiting {
            job.fail(InferenceError(.unavailable, "the inference pool is shutting down"))
            jobEnded(job)
        }
        // The control thread starts workers, so it is joined first; then no new worker can appear.
        if let control { pthread_join(control, nil) }
        while true {
            let toJoin: [PoolWorker] = lock.withLock {
                defer { exited.removeAll() }
                return workers + exited
            }
            for worker in toJoin where !worker.isCurrentThread { worker.join() }
            if lock.withLock({ workers.isEmpty && exited.isEmpty }) { break }
        }
        lock.withLock {
            shutdownComplete = true
            lock.broadcast()
        }
    }
}
