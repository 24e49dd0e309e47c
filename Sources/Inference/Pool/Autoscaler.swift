#if canImport(Glibc)
import Glibc
#endif
import HostOS

/// The pool's control thread: keeps `minWorkers` workers, starts another (up to `maxWorkers`) when
/// the oldest waiting request has waited `scaleUpQueueWait` (at once when there is none, so
/// `minWorkers` may be 0), fails waiting requests whose deadline passed, and joins workers that
/// stopped. Idle workers stop themselves (`PoolCore.waitForWork`).
extension PoolCore {
    /// Starts the control thread.
    func startControlThread() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let core = Unmanaged<PoolCore>.fromOpaque(raw).takeRetainedValue()
            core.controlLoop()
            return nil
        }, box)
        if status == 0 {
            lock.withLock { controlThread = handle }
        } else {
            Unmanaged<PoolCore>.fromOpaque(box).release()
            lock.withLock { lastStartError = InferenceError(.unavailable, "the pool's control thread could not start (errno \(status))") }
        }
    }

    private func controlLoop() {
        while true {
            expireWaiting(now: .now)
            // Deciding and waiting under one hold of the lock, so no broadcast falls in between.
            let stopped: [PoolWorker]? = lock.withLock {
                if shuttingDown { return nil }
                let now = ContinuousClock.now
                scale(now: now)
                if !exited.isEmpty {
                    defer { exited.removeAll() }
                    return exited
                }
                if let wake = nextWake(now: now) {
                    lock.wait(untilMonotonic: monotonicNanos() &+ (wake - now).nanosecondsClamped)
                } else {
                    lock.wait()
                }
                return []
            }
            guard let stopped else { return }
            for worker in stopped { worker.join() }
        }
    }

    /// Starts a worker when the pool is below its minimum or its queue waits too long (lock held).
    private func scale(now: ContinuousClock.Instant) {
        if let failure = lastStartFailure, now - failure < .seconds(1) { return }
        let active = workers.filter { !$0.stopRequested }
        let starting = active.contains { !$0.isReady }
        let minimum = minimumWorkers
        let maximum = maximumWorkers
        var wanted = active.count < minimum
        if !wanted, !queue.isEmpty, active.count < maximum, !starting {
            if active.isEmpty {
                wanted = true
            } else if let oldest = queue.oldestEnqueued, now - oldest >= configuration.scaleUpQueueWait {
                wanted = true
            }
        }
        guard wanted, let device = deviceForNewWorker() else { return }
        let worker = PoolWorker(core: self, device: device)
        workers.append(worker)
        if !worker.start() {
            workers.removeAll { $0 === worker }
            lastStartError = InferenceError(.unavailable, "a worker thread could not start")
            lastStartFailure = now
        }
    }

    /// When the control thread must look again without being woken: the next scale-up time, deadline
    /// or start retry still ahead. Conditions already due but blocked (a worker starting, the maximum
    /// reached) change only with a broadcast, which wakes the thread anyway.
    private func nextWake(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var candidates: [ContinuousClock.Instant] = []
        if let oldest = queue.oldestEnqueued { candidates.append(oldest + configuration.scaleUpQueueWait) }
        if let deadline = queue.earliestDeadline { candidates.append(deadline) }
        if let failure = lastStartFailure { candidates.append(failure + .seconds(1)) }
        return candidates.filter { $0 > now }.min()
    }
}
