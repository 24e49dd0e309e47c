import Glibc

/// A pthread mutex with one condition variable on CLOCK_MONOTONIC.
///
/// The trace's group-commit writer and the HTTP server's response channels wait on it with
/// deadlines: Dispatch has no timed condition wait, Synchronization's `Mutex` has no condition
/// variable, and Foundation is not used under Sources/. Timed waits use the monotonic clock so a
/// wall-clock jump cannot stall them.
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the lock held.
    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits for a broadcast; the lock must be held.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a broadcast or until the monotonic clock reaches `deadline` (ns); the lock must be held.
    public func wait(untilMonotonic deadline: UInt64) {
        var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &spec)
    }

    public func broadcast() { pthread_cond_broadcast(condition) }
}
