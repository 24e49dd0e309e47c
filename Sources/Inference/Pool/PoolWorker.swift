#if canImport(Glibc)
import Glibc
#endif
import HostOS
import Synchronization

/// One worker: a thread that creates its backend (model and KV arena), then runs scheduler steps
/// while it has sequences or the queue has requests, and stops when the pool shuts down or it has
/// been idle for `idleRelease` above `minWorkers` (its backend, and so its memory, released).
final class PoolWorker: @unchecked Sendable {
    /// Strong: the worker's thread uses the core until it ends; the core drops the worker when it stops.
    private let core: PoolCore
    private var thread: pthread_t?
    /// Set by the pool (under its lock) when the worker must stop at its next step boundary.
    var stopRequested = false
    /// Whether it created its backend and serves (under the pool's lock).
    var isReady = false
    /// Where its backend runs.
    let device: WorkerDevice

    init(core: PoolCore, device: WorkerDevice) {
        self.core = core
        self.device = device
    }

    /// Starts the thread; false when the system refused one.
    func start() -> Bool {
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let worker = Unmanaged<PoolWorker>.fromOpaque(raw).takeRetainedValue()
            worker.run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<PoolWorker>.fromOpaque(box).release()
            return false
        }
        thread = handle
        return true
    }

    /// Waits for the thread to end (after it was asked to stop).
    func join() {
        guard let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }

    /// Whether this is the calling thread (a worker never joins itself).
    var isCurrentThread: Bool {
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    private func run() {
        let configuration = core.configuration
        let backend: any InferenceBackend
        do {
            backend = try core.makeBackend(device, configuration.kvMemoryBytes, configuration.blockSize)
        } catch {
            core.workerFailedToStart(self, error)
            return
        }
        let scheduler = Scheduler(core: core, backend: backend, workerID: ObjectIdentifier(self), device: device)
        core.recorder.publish(scheduler.snapshot, worker: ObjectIdentifier(self))
        core.workerReady(self, contextLength: backend.config.contextLength)
        while core.waitForWork(self, hasRunning: !scheduler.running.isEmpty || scheduler.processor?.hasInFlight == true) {
            scheduler.step()
        }
        scheduler.stopOverlap()
        scheduler.failAll(InferenceError(.unavailable, "the inference pool is shutting down"))
        core.lock.withLock { core.prefixDirectory[ObjectIdentifier(self)] = nil }
        core.recorder.removeWorker(ObjectIdentifier(self))
        core.workerStopped(self)
    }
}

extension PoolCore {
    /// Blocks until the worker has something to do (true) or must stop (false): it stops when the pool
    /// shuts down, or after `idleRelease` without work while more than `minWorkers` are running.
    func waitForWork(_ worker: PoolWorker, hasRunning: Bool) -> Bool {
        lock.withLock {
            let idleSince = monotonicNanos()
            let release = configuration.idleRelease.nanosecondsClamped
            while true {
                if shuttingDown || worker.stopRequested { return false }
                if hasRunning || !queue.isEmpty { return true }
                let now = monotonicNanos()
                if now &- idleSince >= release && activeWorkerCount > minimumWorkers {
                    worker.stopRequested = true
                    return false
                }
                lock.wait(untilMonotonic: idleSince &+ release)
            }
        }
    }

    /// The worker's backend is up: it takes requests from now on.
    func workerReady(_ worker: PoolWorker, contextLength: Int) {
        lock.withLock {
            worker.isReady = true
            self.contextLength = contextLength
            lastStartError = nil
            reportedStartFailures[worker.device] = nil
            lock.broadcast()
        }
    }

    /// The worker could not create its backend: it leaves the pool (the control thread starts another
    /// a second later), the operator hears why once per device and reason, and the waiting requests
    /// that no remaining worker may run fail with the reason — all of them when no worker is left, or
    /// those a policy pinned to this GPU — instead of waiting for a worker that may never start.
    func workerFailedToStart(_ worker: PoolWorker, _ error: InferenceError) {
        let (failed, report): ([PoolJob], Bool) = lock.withLock {
            workers.removeAll { $0 === worker }
            exited.append(worker)
            lastStartError = error
            lastStartFailure = .now
            lock.broadcast()
            let report = reportedStartFailures.updateValue(error.message, forKey: worker.device) != error.message
            let remaining = workers.filter { !$0.stopRequested }.map(\.device)
            return (queue.removeAll { job in !remaining.contains { job.request.allows($0) } }, report)
        }
        if report { notice("the inference worker on \(worker.device) could not start (\(error.message)); retrying every second") }
        let reason = InferenceError(.unavailable, "no inference worker could start: \(error.message)")
        for job in failed {
            job.fail(reason) { recorder.count(\.failures) }
            jobEnded(job)
        }
    }

    /// The worker's thread is ending: it leaves the pool's list (and is joined by whoever stops the
    /// pool, or by the control thread).
    func workerStopped(_ worker: PoolWorker) {
        lock.withLock {
            workers.removeAll { $0 === worker }
            exited.append(worker)
            lock.broadcast()
        }
    }
}
