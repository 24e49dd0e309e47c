import HostOS
import Glibc
import Sandbox
import Specs

/// `warden policy check FILE --timing`: how long loading, compiling, a compiled-filter cache hit and
/// a prepared-policy hit (what `warden exec` pays) take in this process (first run, then the median
/// and minimum of repeated runs).
enum PolicyTiming {
    static let repetitions = 200

    /// Milliseconds on `clock`: CLOCK_MONOTONIC for wall time, CLOCK_THREAD_CPUTIME_ID for this thread's
    /// CPU time (steadier on a busy machine, where wall time includes waiting for a core).
    static func now(_ clock: clockid_t = CLOCK_MONOTONIC) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    struct Sample {
        var first: Double, median: Double, minimum: Double, cpuMedian: Double
    }

    /// Runs `body` once cold and `repetitions` times warm; times in milliseconds.
    static func measure(_ body: () throws -> Void) rethrows -> Sample {
        var start = now()
        try body()
        let first = now() - start
        var wall: [Double] = [], cpu: [Double] = []
        wall.reserveCapacity(repetitions); cpu.reserveCapacity(repetitions)
        for _ in 0..<repetitions {
            start = now()
            let cpuStart = now(CLOCK_THREAD_CPUTIME_ID)
            try body()
            cpu.append(now(CLOCK_THREAD_CPUTIME_ID) - cpuStart)
            wall.append(now() - start)
        }
        wall.sort(); cpu.sort()
        return Sample(first: first, median: wall[wall.count / 2], minimum: wall[0], cpuMedian: cpu[cpu.count / 2])
    }

    static func format(_ ms: Double) -> String {
        let micros = Int((ms * 1000).rounded())
        return micros >= 1000 ? "\(micros / 1000).\(String(format3(micros % 1000))) ms" : "\(micros) µs"
    }

    static func format3(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: 3 - text.count) + text
    }

    /// Prints the timing lines; the cache is exercised in a private temporary directory.
    static func report(file: String, policy: Policy) throws -> String {
        var template = Array("/tmp/warden-policy-timing-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let path = mkdtemp(base) else { return nil }
            return String(cString: path)
        }
        guard let directory = created else { return "timing: cannot create a temporary directory" }
        defer { removeTree(directory) }
        let load = try measure { _ = try Policy.load(path: file) }
        let compile = try measure { _ = try SeccompCompiler.compile(policy.seccomp) }
        _ = try SeccompCompiler.compileCached(policy.seccomp, directory: directory)
        let cached = try measure {
            let result = try SeccompCompiler.compileCached(policy.seccomp, directory: directory)
            guard result.outcome == .hit else { throw SeccompError(code: .cache, message: "expected a cache hit, got \(result.outcome)") }
        }
        _ = try PreparedPolicy.load(path: file, directory: directory)
        let prepared = try measure {
            let result = try PreparedPolicy.load(path: file, directory: directory)
            guard result.outcome == .hit else { throw SeccompError(code: .cache, message: "expected a prepared-policy hit, got \(result.outcome)") }
        }
        func line(_ name: String, _ t: Sample) -> String {
            "  \(name): first \(format(t.first)), median \(format(t.median)), min \(format(t.minimum)), median CPU \(format(t.cpuMedian))"
        }
        return (["timing (\(repetitions) warm runs each):", line("load + validate", load), line("seccomp compile", compile),
                 line("seccomp cache hit", cached), line("prepared policy hit (warden exec)", prepared)]).joined(separator: "\n")
    }

    static func removeTree(_ directory: String) {
        for entry in (try? FileDescriptor.directoryEntries(atPath: directory)) ?? [] { unlink(directory + "/" + entry.name) }
        rmdir(directory)
    }
}
