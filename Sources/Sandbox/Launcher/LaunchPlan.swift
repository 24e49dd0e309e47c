// SPDX-License-Identifier: Apache-2.0
import HostOS
import Glibc

/// Everything the launcher needs to start one sandboxed process (a value; no policy types).
public struct LaunchPlan: Sendable {
    /// The program inside the sandbox: an absolute path, or a bare name searched in the plan's PATH.
    public var executable: String
    /// The full argv, argv[0] included.
    public var arguments: [String]
    /// The agent's whole environment; nothing of the supervisor's is inherited.
    public var environment: [String: String]
    /// The working directory inside the sandbox.
    public var workingDirectory: String
    /// The UTS hostname, or nil for the kernel's default.
    public var hostname: String?
    /// The new root.
    public var mounts: MountPlan
    /// The agent's ids inside and the unprivileged host ids they map to.
    public var identity: SandboxIdentity
    /// Limits applied with prlimit in the child.
    public var resourceLimits: [ResourceLimit]
    /// A compiled seccomp filter, installed as the last step before execve.
    public var seccomp: SeccompFilter?
    /// Extra descriptors the agent receives, at the numbers it sees them.
    public var descriptors: [DescriptorMapping]
    /// The agent's stdin; nil means /dev/null. The caller keeps ownership of every descriptor.
    public var standardInput: FileDescriptor?
    /// The agent's stdout; nil means /dev/null.
    public var standardOutput: FileDescriptor?
    /// The agent's stderr; nil means /dev/null.
    public var standardError: FileDescriptor?
    /// TCP ports to listen on at 127.0.0.1 inside the sandbox's network namespace; the listening
    /// sockets come back in `SandboxedProcess.listeners` (the broker's endpoint, DESIGN.md decision 4).
    public var loopbackListenPorts: [UInt16]
    /// A cgroup v2 directory to start the process in (clone3 CLONE_INTO_CGROUP); nil leaves the
    /// process in ours (v1 groups go through `cgroupTaskFiles`, or `beforeExec`).
    public var cgroup: FileDescriptor?
    /// cgroup v1 `tasks` files opened for writing (`Cgroups.RunGroup.openV1TaskFiles`): the child
    /// moves itself into each as one of its first steps, before exec, with no `beforeExec` write.
    /// The caller keeps ownership; they must stay open until `launch` returns.
    public var cgroupTaskFiles: [FileDescriptor]
    /// Clone on the calling thread instead of the launcher's own thread: two thread hand-offs
    /// fewer. The parent-death signal follows the thread that clones, so only for a thread that
    /// outlives the process (the main thread of a one-shot command). Concurrent launches with it
    /// are fine; a pooled network namespace falls back to the launcher's thread.
    public var cloneOnCallingThread: Bool
    /// The signal the process receives if the supervisor dies (0: none).
    public var parentDeathSignal: Int32
    /// Stay in the host's network namespace (for tools that need it; never for agents).
    public var shareHostNetwork: Bool
    /// Record a timestamp per setup step in `SandboxedProcess.stepTimes` (benchmarks).
    public var traceSteps: Bool

    /// A plan for `executable` with `arguments` (argv[0] defaults to the executable).
    public init(
        executable: String, arguments: [String]? = nil, environment: [String: String] = [:],
        workingDirectory: String = "/", mounts: MountPlan = .standard()
    ) {
        self.executable = executable
        self.arguments = arguments ?? [executable]
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.hostname = "warden"
        self.mounts = mounts
        self.identity = .nobody
        self.resourceLimits = []
        self.seccomp = nil
        self.descriptors = []
        self.loopbackListenPorts = []
        self.cgroup = nil
        self.cgroupTaskFiles = []
        self.cloneOnCallingThread = false
        self.parentDeathSignal = SIGKILL
        self.shareHostNetwork = false
        self.traceSteps = false
    }

    /// Whether the child sends descriptors back before exec (its loopback listeners, a seccomp
    /// listener): then the launch must wait for exec to receive them (`Launcher.launch`).
    public var passesDescriptorsBack: Bool {
        !loopbackListenPorts.isEmpty || seccomp?.wantsListener == true
    }
}

/// The agent's uid and gid inside the user namespace and the host ids they map to.
public struct SandboxIdentity: Sendable, Hashable {
    /// The uid the agent sees itself as.
    public var insideUID: UInt32
    /// The gid the agent sees itself as.
    public var insideGID: UInt32
    /// The host uid files and processes of the agent belong to (never 0).
    public var hostUID: UInt32
    /// The host gid.
    public var hostGID: UInt32

    /// Maps `insideUID`/`insideGID` to `hostUID`/`hostGID`.
    public init(insideUID: UInt32, insideGID: UInt32, hostUID: UInt32, hostGID: UInt32) {
        self.insideUID = insideUID
        self.insideGID = insideGID
        self.hostUID = hostUID
        self.hostGID = hostGID
    }

    /// nobody (65534) inside and outside: unprivileged on the host even when the supervisor is root.
    public static let nobody = SandboxIdentity(insideUID: 65534, insideGID: 65534, hostUID: 65534, hostGID: 65534)
}

/// One rlimit.
public struct ResourceLimit: Sendable, Hashable {
    /// The limited resource.
    public enum Resource: Sendable, Hashable {
        case openFiles, fileSize, processes, addressSpace, cpuSeconds, coreSize, stack, data, lockedMemory

        var rawValue: Int32 {
            switch self {
            case .openFiles: Int32(RLIMIT_NOFILE.rawValue)
            case .fileSize: Int32(RLIMIT_FSIZE.rawValue)
            case .processes: 6  // RLIMIT_NPROC (hidden behind _GNU_SOURCE in Swift's Glibc)
            case .addressSpace: Int32(RLIMIT_AS.rawValue)
            case .cpuSeconds: Int32(RLIMIT_CPU.rawValue)
            case .coreSize: Int32(RLIMIT_CORE.rawValue)
            case .stack: Int32(RLIMIT_STACK.rawValue)
            case .data: Int32(RLIMIT_DATA.rawValue)
            case .lockedMemory: 8  // RLIMIT_MEMLOCK
            }
        }
    }

    /// What is limited.
    public var resource: Resource
    /// The limit the kernel enforces.
    public var soft: UInt64
    /// The ceiling the process may raise `soft` to.
    public var hard: UInt64

    /// `soft` and `hard` limits on `resource` (`hard` defaults to `soft`).
    public init(_ resource: Resource, soft: UInt64, hard: UInt64? = nil) {
        self.resource = resource
        self.soft = soft
        self.hard = hard ?? soft
    }

    /// RLIM_INFINITY.
    public static let unlimited = UInt64.max
}

/// A compiled classic-BPF seccomp program.
public struct SeccompFilter: Sendable, Hashable {
    /// The raw `struct sock_filter` array (8 bytes per instruction), as libseccomp exports it.
    public var bpf: [UInt8]
    /// Ask for a user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER); it comes back in
    /// `SandboxedProcess.seccompListener`. The filter must not notify on sendmsg, which hands it over.
    public var wantsListener: Bool
    /// Log every action but allow (SECCOMP_FILTER_FLAG_LOG).
    public var logActions: Bool

    /// A filter of `bpf` bytes.
    public init(bpf: [UInt8], wantsListener: Bool = false, logActions: Bool = false) {
        self.bpf = bpf
        self.wantsListener = wantsListener
        self.logActions = logActions
    }
}

/// A supervisor descriptor the agent receives as `child`.
public struct DescriptorMapping: Sendable, Hashable {
    /// The supervisor's descriptor (kept open by the caller until launch returns).
    public var parent: FileDescriptor
    /// The number the agent sees it as (3 or more).
    public var child: Int32

    /// `parent` becomes the agent's descriptor number `child`.
    public init(parent: FileDescriptor, child: Int32) {
        self.parent = parent
        self.child = child
    }
}
