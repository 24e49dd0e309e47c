import Glibc

/// Control groups for sandbox runs: layout detection (v2, hybrid, v1, none), per-run groups with
/// memory / pids / CPU limits, fast attach, tree kill, OOM and pids-limit events, and cleanup.
///
/// Production hosts are mostly pure cgroup v2. Older or VM hosts (like the development host) are
/// *hybrid*: v1 hierarchies carry the resource controllers while an empty cgroup2 mount at
/// `/sys/fs/cgroup/unified` still offers the core files (`cgroup.kill`, `cgroup.events`). crun refuses
/// that layout; we support it because refusing would leave the agent without limits.
public enum Cgroups {
    /// Which cgroup interface a run's limits go through.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Pure cgroup v2: one unified hierarchy with the memory, pids and cpu controllers.
        case v2
        /// v1 controller hierarchies for limits plus a cgroup2 mount for kill/events.
        case hybrid
        /// v1 controller hierarchies only.
        case v1
        /// No writable cgroup hierarchy: only rlimits and the pid namespace bound the run.
        case none
    }

    /// The resource controllers Warden uses for limits and accounting.
    public enum Controller: String, Sendable, CaseIterable, Comparable {
        case memory, pids, cpu, cpuacct, freezer

        public static func < (a: Controller, b: Controller) -> Bool { a.rawValue < b.rawValue }
    }

    /// Limits for one run's cgroup; `nil` means "not limited here".
    public struct Limits: Sendable, Equatable {
        /// Memory limit in bytes (swap included where the host accounts it).
        public var memoryBytes: UInt64?
        /// Maximum number of tasks (processes and threads).
        public var pids: Int?
        /// CPU bandwidth in cores (1.5 = one and a half CPUs), enforced by CFS quota.
        public var cpuCores: Double?

        public init(memoryBytes: UInt64? = nil, pids: Int? = nil, cpuCores: Double? = nil) {
            self.memoryBytes = memoryBytes
            self.pids = pids
            self.cpuCores = cpuCores
        }
    }

    /// What a run's cgroup recorded by the time it ended.
    public struct Usage: Sendable, Equatable {
        /// Processes the kernel OOM killer killed inside the group.
        public var oomKills: Int = 0
        /// Times a fork or clone failed because the pids limit was reached.
        public var pidsLimitHits: Int = 0
        /// Highest memory use seen, in bytes, if the host reports it.
        public var memoryPeakBytes: UInt64?
        /// CPU time used by all tasks of the group, in nanoseconds, if the host reports it.
        public var cpuTimeNanos: UInt64?

        public init() {}
    }

    /// The error of the cgroup layer: what was being done, on which path, and the errno.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable, Equatable {
        /// Extensible error kinds.
        public struct Code: RawRepresentable, Hashable, Sendable {
            public var rawValue: String
            public init(rawValue: String) { self.rawValue = rawValue }
            public static let unavailable = Code(rawValue: "unavailable")
            public static let create = Code(rawValue: "create")
            public static let limit = Code(rawValue: "limit")
            public static let attach = Code(rawValue: "attach")
            public static let kill = Code(rawValue: "kill")
            public static let remove = Code(rawValue: "remove")
        }

        public var code: Code
        public var path: String
        public var errno: Int32

        public init(_ code: Code, path: String, errno: Int32) {
            self.code = code
            self.path = path
            self.errno = errno
        }

        public var description: String {
            let reason = errno == 0 ? "failed" : String(cString: strerror(errno))
            return "cgroup \(code.rawValue) \(path): \(reason)"
        }
    }
}
