import Glibc

/// Launch-path markers printed to stderr when `WARDEN_TIMING` is set, for Benchmarks/launch.sh:
/// each line is `warden-timing <step> <ms since the first marker> <page faults>` (the first is
/// `main`; the cost of process start-up before main is measured separately with `warden
/// --version`). The fault count is the calling thread's minor faults so far: in a fresh process
/// most of a step's cost is first-touch paging of code and data, not the step's own work.
///
/// Markers are kept in memory and printed together by `flush` at the end of a run, so that taking
/// one costs a clock read and not a write(2) plus formatting in the middle of the path it measures.
public enum RunTiming {
    /// True when markers are wanted (read once).
    public static let enabled: Bool = getenv("WARDEN_TIMING") != nil

    private static let capacity = 64
    nonisolated(unsafe) private static var marks: [(step: StaticString, nanos: UInt64, faults: Int)] = []
    nonisolated(unsafe) private static var launcherSteps: [(name: String, nanos: UInt64)] = []

    /// Records one marker (called from the launching thread only); `flush` prints them all.
    public static func mark(_ step: StaticString) {
        guard enabled else { return }
        let now = Deadline.nowNanos()
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)   // RUSAGE_THREAD, which the Glibc module does not export
        if marks.count < capacity { marks.append((step, now, usage.ru_minflt)) }
    }

    /// Records the launcher's per-step times (nanoseconds from the start of the launch).
    public static func steps(_ steps: [(String, UInt64)]) {
        guard enabled else { return }
        launcherSteps = steps.map { (name: $0.0, nanos: $0.1) }
    }

    /// Prints what was recorded, and forgets it.
    public static func flush() {
        guard enabled, let origin = marks.first?.nanos else { return }
        var text = ""
        for mark in marks {
            text += "warden-timing \(mark.step) \(formatted(Double(mark.nanos - origin) / 1e6)) \(mark.faults)\n"
            if "\(mark.step)" == "launch_begin" {
                for (name, nanos) in launcherSteps {
                    text += "warden-timing   launcher:\(name.replacingOccurrences(" ", "_")) +\(formatted(Double(nanos) / 1e6))\n"
                }
            }
        }
        marks = []
        launcherSteps = []
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    static func formatted(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

private extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
