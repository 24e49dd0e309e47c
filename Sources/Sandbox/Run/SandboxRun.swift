import Glibc
import TraceStore

/// One sandboxed run of an agent or command: cgroup, launch, bounded output, wall-clock timeout,
/// tree kill, reap, cleanup, and a `RunReport`.
public struct SandboxRun: Sendable {
    /// Where an output stream of the agent goes.
    public enum OutputSink: Sendable, Equatable {
        /// Copied to this descriptor of the supervisor (its own stdout or stderr).
        case descriptor(Int32)
        /// Kept in memory and returned in the result.
        case capture
        /// Dropped.
        case discard
    }

    /// Supervision settings that are not part of the launch plan.
    public struct Settings: Sendable {
        /// Wall-clock timeout in nanoseconds when the request has none (nil: none).
        public var timeoutNanos: UInt64?
        /// Bytes forwarded per stream before the rest is drained and dropped.
        public var outputLimit: Int
        /// Where the agent's stdout and stderr go.
        public var stdout: OutputSink, stderr: OutputSink
        /// A descriptor that becomes readable or hung up when the caller wants the run ended early
        /// (the read end of a pipe whose write end it closes): the process tree is then killed.
        /// For long-lived runs such as an agent's MCP servers; the caller keeps ownership.
        public var stop: Int32?
        /// In hybrid mode, also place the run in the cgroup2 hierarchy (cgroup.kill, events).
        public var useUnifiedHierarchy: Bool
        /// The run's cgroup directory name (default: a fresh `run-<pid>-<start>-<n>-<random>`).
        public var runName: String?
        /// Also remove the cgroups of runs whose supervisor died, while this run's process execs
        /// (off the launch path: the supervisor would otherwise just wait in poll).
        public var removeOrphanedRuns: Bool
        /// Launch from the calling thread (`LaunchPlan.cloneOnCallingThread`): only when that
        /// thread outlives the run, as the main thread of the one-shot CLI does.
        public var cloneOnCallingThread: Bool
        /// Learn whether the agent's program was exec'd only after it has ended, when nothing needs
        /// to know sooner (no trace, no `onLaunch`, no listeners or seccomp listener): the
        /// supervisor then sleeps once, until the exit, instead of also waking at exec
        /// (`Launcher.launchWithoutWaiting`). A setup failure is thrown by `execute` as before.
        /// For the one-shot CLI.
        public var confirmExecAtExit: Bool
        /// Records the run in the execution trace when set (SandboxRun+Trace.swift).
        public var trace: TraceRecorder?
        /// Called once the agent is launched with its loopback listening sockets (raw fds, in
        /// `Request.loopbackListenPorts` order; still owned by the run: dup what you keep).
        public var onLaunch: (@Sendable ([Int32]) -> Void)?

        public init(timeoutNanos: UInt64? = nil, outputLimit: Int = 16 << 20,
                    stdout: OutputSink = .descriptor(1), stderr: OutputSink = .descriptor(2),
                    useUnifiedHierarchy: Bool = true) {
            self.timeoutNanos = timeoutNanos
            self.outputLimit = outputLimit
            self.stdout = stdout
            self.stderr = stderr
            self.stop = nil
            self.useUnifiedHierarchy = useUnifiedHierarchy
            self.runName = nil
            self.removeOrphanedRuns = false
            self.cloneOnCallingThread = false
            self.confirmExecAtExit = false
            self.trace = nil
            self.onLaunch = nil
        }
    }

    /// What a finished run returns: the report and any captured output.
    public struct Result: Sendable {
        public var report: RunReport
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// Set when the trace could not record the run (under fail-closed the run was stopped).
        public var traceError: TraceError?
    }
}
