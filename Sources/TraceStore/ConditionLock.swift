import Glibc

/// A pthread mutex with one condition variable on CLOCK_MONOTONIC: the writer's queue lock.
///
/// Dispatch has no timed condition wait and Foundation is not allowed under Sources/, so the
/// group-commit writer uses pthreads directly.
final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
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

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the lock held.
    func withLock<T>(_ body: () throws(TraceError) -> T) throws(TraceError) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits for a broadcast; the lock must be held.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a broadcast or until the monotonic clock reaches `deadline` (ns); the lock must be held.
    func wait(untilMonotonic deadline: UInt64) {
        var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &spec)
    }

    func broadcast() { pthread_cond_broadcast(condition) }
}

/// Clocks the trace uses: wall time for record timestamps, monotonic time for commit windows.
public enum TraceClock {
    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME).
    public static func wallNanoseconds() -> UInt64 { read(CLOCK_REALTIME) }
    /// Nanoseconds on CLOCK_MONOTONIC.
    public static func monotonicNanoseconds() -> UInt64 { read(CLOCK_MONOTONIC) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// Starts a detached-joinable pthread running `body`; returns its handle for `pthread_join`.
func startThread(_ body: @escaping @Sendable () -> Void) throws(TraceError) -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
        box.body()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        throw TraceError(.io, "cannot start the trace writer thread", errno: rc)
    }
    return thread
}
