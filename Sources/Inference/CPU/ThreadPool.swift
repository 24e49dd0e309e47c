#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A small persistent pool of pthreads that runs one body on every thread (the caller is thread 0)
/// with a cheap spinning barrier between phases: one wake-up per forward pass instead of a task per op.
/// Idle workers spin briefly, then sleep on a condition variable.
final class ThreadPool: @unchecked Sendable {
    let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let arrived = Atomic<Int>(0)
    private let barrierPhase = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    private var threads: [pthread_t] = []

    init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for tid in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, tid: tid)).toOpaque()
            var thread = pthread_t()
            if pthread_create(&thread, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                ctx.pool.workerLoop(tid: ctx.tid)
                return nil
            }, context) == 0 {
                threads.append(thread)
            } else {
                Unmanaged<WorkerContext>.fromOpaque(context).release()
            }
        }
    }

    deinit {
        shuttingDown.store(true, ordering: .releasing)
        pthread_mutex_lock(mutex)
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
    }

    /// The number of threads actually running the body (fewer if a pthread could not start).
    var width: Int { threads.count + 1 }

    /// Runs `body(tid)` on every thread, tid in 0..<width, and returns when all have finished.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            generation.add(1, ordering: .releasing)
            if sleepers.load(ordering: .acquiring) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            escapable(0)
            barrier()
            self.body = nil
        }
    }

    /// Waits until every thread of the current `run` has reached this point.
    func barrier() {
        let n = width
        if n == 1 { return }
        let phase = barrierPhase.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == n {
            arrived.store(0, ordering: .relaxed)
            barrierPhase.store(phase &+ 1, ordering: .releasing)
            return
        }
        var spins = 0
        while barrierPhase.load(ordering: .acquiring) == phase {
            spins += 1
            if spins > 20_000 { sched_yield() }
        }
    }

    private func workerLoop(tid: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 200_000 { continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .acquiringAndReleasing)
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                sleepers.subtract(1, ordering: .acquiringAndReleasing)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if shuttingDown.load(ordering: .acquiring) { return }
            body?(tid)
            barrier()
        }
    }

    /// The slice of `0..<count` that thread `tid` of `width` handles (contiguous, balanced).
    static func share(_ count: Int, tid: Int, width: Int) -> Range<Int> {
        (count * tid / width)..<(count * (tid + 1) / width)
    }
}

private final class WorkerContext {
    let pool: ThreadPool
    let tid: Int
    init(pool: ThreadPool, tid: Int) {
        self.pool = pool
        self.tid = tid
    }
}
