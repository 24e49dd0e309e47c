import Glibc

/// Launch-path markers printed to stderr when `WARDEN_TIMING` is set, for Benchmarks/launch.sh:
/// each line is `warden-timing <step> <ms since process start>`.
public enum RunTiming {
    /// True when markers are wanted (read once).
    public static let enabled: Bool = getenv("WARDEN_TIMING") != nil

    /// Prints one marker (milliseconds since the process started, from /proc/self/stat's clock).
    public static func mark(_ step: StaticString) {
        guard enabled else { return }
        let line = "warden-timing \(step) \(formatted(sinceStartMs()))\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    /// Monotonic milliseconds since this process started (CLOCK_MONOTONIC vs the boot-relative
    /// start time, both in the same clock base as /proc/uptime on Linux: CLOCK_BOOTTIME).
    static func sinceStartMs() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let start = Double(processStartTime(getpid()) ?? 0) / ticks
        return (Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - start) * 1000
    }

    static func formatted(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension RunTiming {
    /// Prints the launcher's per-step times (nanoseconds from the start of the launch).
    public static func steps(_ steps: [(String, UInt64)]) {
        guard enabled else { return }
        for (name, nanos) in steps {
            let line = "warden-timing   launcher:\(name.replacingOccurrences(" ", "_")) +\(formatted(Double(nanos) / 1e6))\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        }
    }
}

private extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
