import Glibc

/// How a sandboxed run ended, what it used, and what could not be enforced.
public struct RunReport: Sendable, Equatable {
    /// The agent's exit code if it exited normally.
    public var exitCode: Int32?
    /// The signal that killed the agent (its pid-namespace init), if any.
    public var signal: Int32?
    /// The kernel OOM killer killed a process of the run (cgroup memory limit).
    public var oomKilled = false
    /// A fork or clone failed because the run hit its pids limit.
    public var pidsLimitHit = false
    /// The run was killed at its wall-clock timeout.
    public var timedOut = false
    /// The agent died of SIGSYS: a syscall the seccomp filter kills on (bad architecture, ...).
    public var seccompKilled = false
    /// The cgroup interface the limits went through.
    public var cgroupMode: Cgroups.Mode = .none
    /// Limits that could not be enforced on this host, with the reason.
    public var unenforced: [String] = []
    /// Peak memory of the run's cgroup in bytes, if reported.
    public var memoryPeakBytes: UInt64?
    /// CPU time of every process of the run, in nanoseconds, if reported.
    public var cpuTimeNanos: UInt64?
    /// Bytes forwarded and dropped (past the per-stream limit) from the agent's stdout and stderr.
    public var stdoutBytes = 0, stdoutDropped = 0, stderrBytes = 0, stderrDropped = 0
    /// Time from the start of setup to exec handoff, the run itself, and teardown, in nanoseconds.
    public var setupNanos: UInt64 = 0, runNanos: UInt64 = 0, teardownNanos: UInt64 = 0

    public init() {}

    /// True if the agent exited with status 0 and nothing was cut short.
    public var succeeded: Bool { exitCode == 0 && !timedOut && !oomKilled }

    /// The exit status `warden run` / `warden exec` pass on, following the shell conventions that
    /// timeout(1) and container runtimes document: the agent's code; 128+N for signal N (so an OOM
    /// kill is 137, as in Docker); 124 for a wall-clock timeout, as timeout(1) does.
    public var exitStatus: Int32 {
        if timedOut { return 124 }
        if let signal { return 128 + signal }
        return exitCode ?? 1
    }

    /// One line for a person: how the run ended (empty-ish wording for a clean exit).
    public var summary: String {
        var parts: [String] = []
        if timedOut {
            parts.append("killed at the wall-clock timeout")
        } else if oomKilled {
            parts.append("killed by the kernel OOM killer (cgroup memory limit reached)")
        } else if seccompKilled {
            parts.append("killed by seccomp (SIGSYS): a forbidden system call")
        } else if let signal {
            parts.append("killed by signal \(signal) (\(Self.signalName(signal)))")
        } else if let exitCode {
            parts.append("exited with status \(exitCode)")
        }
        if pidsLimitHit { parts.append("pids limit reached") }
        if stdoutDropped > 0 { parts.append("\(stdoutDropped) bytes of stdout dropped past the limit") }
        if stderrDropped > 0 { parts.append("\(stderrDropped) bytes of stderr dropped past the limit") }
        if !unenforced.isEmpty { parts.append("not enforced: " + unenforced.joined(separator: "; ")) }
        return parts.joined(separator: "; ")
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                      SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                      SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
                                      SIGTERM: "SIGTERM", SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ"]
        return names[signal] ?? "signal \(signal)"
    }
}
