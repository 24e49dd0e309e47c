import Glibc

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
