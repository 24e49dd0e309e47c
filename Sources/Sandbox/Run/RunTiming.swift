import Glibc

/// Launch-path markers printed to stderr when `WARDEN_TIMING` is set, for Benchmarks/launch.sh:
/// each line is `warden-timing <step> <ms since the first marker>` (the first is `main`; the cost
/// of process start-up before main is measured separately with `warden --version`).
public enum RunTiming {
    /// True when markers are wanted (read once).
    public static let enabled: Bool = getenv("WARDEN_TIMING") != nil

    nonisolated(unsafe) private static var origin: UInt64 = 0

    /// Prints one marker. Called from the launching thread only.
    public static func mark(_ step: StaticString) {
        guard enabled else { return }
        let now = Deadline.nowNanos()
        if origin == 0 { origin = now }
        let line = "warden-timing \(step) \(formatted(Double(now - origin) / 1e6))\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
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
