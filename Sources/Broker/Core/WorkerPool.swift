import Glibc

/// Threads that run the broker's slow work (generation, guardrail scans of big bodies) off the
/// HTTP event loop. It starts with `threads` and keeps a spare: a thread that takes the last idle
/// slot starts another (up to `maxThreads`) before running its job, because a stream whose client
/// reads slowly blocks its thread (backpressure) and must not hold up other calls. (Growing on
/// submit instead would race with a thread that has just answered and not yet looped back:
/// a client's next call arrives in that window and a fresh thread was made for every call.) The queue needs no bound of its own: the server reads a
/// connection's next request only after the current one is answered, so at most one job per
/// connection is ever queued, and the server bounds connections.
final class WorkerPool: @unchecked Sendable {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []
    private var idle = 0
    let maxThreads: Int

    init(threads count: Int, maxThreads: Int = 64) {
        self.maxThreads = max(count, maxThreads)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(ready, nil)
        pthread_mutex_lock(mutex)
        for _ in 0..<max(1, count) { spawn() }
        pthread_mutex_unlock(mutex)
    }

    /// Starts one more thread (called with the mutex held).
    private func spawn() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        if pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let pool = Unmanaged<WorkerPool>.fromOpaque(argument).takeRetainedValue()
            pool.loop()
            return nil
        }, box.toOpaque()) == 0 {
            threads.append(thread)
        } else {
            box.release()
        }
    }

    /// Queues `job` for the next free thread.
    func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(ready)
        pthread_mutex_unlock(mutex)
    }

    /// Lets the threads finish the queued jobs and exit, and waits for them.
    func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(ready)
        pthread_mutex_unlock(mutex)
        pthread_mutex_lock(mutex)
        let all = threads
        threads = []
        pthread_mutex_unlock(mutex)
        for thread in all where pthread_equal(thread, pthread_self()) == 0 { pthread_join(thread, nil) }
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            idle += 1
            while head == jobs.count && !stopping { pthread_cond_wait(ready, mutex) }
            idle -= 1
            if head == jobs.count {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
            if idle == 0, threads.count < maxThreads, !stopping { spawn() }
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
