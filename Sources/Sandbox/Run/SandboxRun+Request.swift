import HostOS

extension SandboxRun {
    /// Everything one run needs, already resolved from a spec and a policy (no Specs types here).
    public struct Request: Sendable {
        /// The program inside the sandbox and its full argv.
        public var executable: String
        public var arguments: [String]
        /// The whole environment of the agent.
        public var environment: [String: String]
        /// The working directory inside the sandbox.
        public var workingDirectory: String
        /// The new root without the workspace (added by the run) and without /agent.
        public var mounts: MountPlan
        /// A host directory bound read-only at /agent (the agent's code), if any.
        public var codeDirectory: String?
        /// A host directory to mount at `workspaceTarget`; nil makes a fresh temporary one.
        public var workspace: String?
        /// Where the workspace appears inside the sandbox (nil: no workspace at all).
        public var workspaceTarget: String?
        /// The ids the agent runs as, inside and on the host.
        public var identity: SandboxIdentity
        /// rlimits set in the child.
        public var resourceLimits: [ResourceLimit]
        /// The seccomp filter, installed last before exec.
        public var seccomp: SeccompFilter?
        /// Syscalls the filter hands to the supervisor (user notification), answered by SeccompAuditor.
        public var auditedSyscalls: [SeccompProgram.AuditedSyscall]
        /// The UTS hostname.
        public var hostname: String?
        /// The agent's stdin (nil: /dev/null), such as the read end of a pipe to a stdio MCP server.
        /// The run takes ownership: it is closed once the process has started (or failed to).
        public var standardInput: FileDescriptor?
        /// cgroup memory, pids and CPU limits.
        public var cgroupLimits: Cgroups.Limits
        /// Wall-clock limit in nanoseconds (nil: none).
        public var timeoutNanos: UInt64?
        /// Ports listened on at 127.0.0.1 inside the sandbox's network namespace (the broker's);
        /// the listening sockets reach `Settings.onLaunch`.
        public var loopbackListenPorts: [UInt16] = []

        /// A request for `arguments` (argv[0] is the executable) under the standard root.
        public init(arguments: [String], environment: [String: String] = Request.defaultEnvironment,
                    mounts: MountPlan = .standard()) {
            executable = arguments.first ?? ""
            self.arguments = arguments
            self.environment = environment
            workingDirectory = "/workspace"
            self.mounts = mounts
            codeDirectory = nil
            workspace = nil
            workspaceTarget = "/workspace"
            identity = .nobody
            resourceLimits = []
            seccomp = nil
            auditedSyscalls = []
            hostname = "warden"
            standardInput = nil
            cgroupLimits = .init()
            timeoutNanos = nil
        }

        /// The environment `warden exec` gives a command.
        public static let defaultEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/workspace"]
    }
}
