import Glibc

/// A fixed set of threads that run the broker's slow work (generation, guardrail scans of big
/// bodies) off the HTTP event loop. The queue needs no bound of its own: the server reads a
/// connection's next request only after the current one is answered, so at most one job per
/// connection is ever queued, and the server bounds connections.
final class WorkerPool: @unchecked Sendable {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    init(threads count: Int) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(ready, nil)
        for _ in 0..<max(1, count) {
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
        for thread in threads { pthread_join(thread, nil) }
        threads = []
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while head == jobs.count && !stopping { pthread_cond_wait(ready, mutex) }
            if head == jobs.count {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
