import Specs

/// Typed bodies of the record types, each turned into the JSON object stored in the record.
/// Field names are snake_case; integers that may exceed 2^53 are JSON integers (the Specs layer
/// keeps their literal text), never doubles.
public enum RecordBody {
    static func int(_ value: some BinaryInteger) -> JSONValue {
        // String(value) of an integer always matches the JSON number grammar.
        .number(JSONNumber(literal: String(value)) ?? JSONNumber(Int64(0)))
    }
    static func optionalInt(_ value: (some BinaryInteger)?) -> JSONValue { value.map { int($0) } ?? .null }
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}

/// `run.start`: what is about to run, under which policy, on which host, by which warden.
public struct RunStart: Sendable {
    public var runID: String
    public var agentName: String
    /// The agent spec as loaded, and the SHA-256 of its file bytes.
    public var spec: JSONValue
    public var specSHA256: String
    /// The policy as loaded, and the SHA-256 of its file bytes.
    public var policy: JSONValue
    public var policySHA256: String
    public var hostname: String
    public var kernel: String
    public var wardenVersion: String
    /// Syscalls the policy audits through seccomp user notification (the rest are denied silently).
    public var auditedSyscalls: [String]

    public init(runID: String, agentName: String, spec: JSONValue, specSHA256: String, policy: JSONValue,
                policySHA256: String, hostname: String, kernel: String, wardenVersion: String, auditedSyscalls: [String] = []) {
        self.runID = runID; self.agentName = agentName; self.spec = spec; self.specSHA256 = specSHA256
        self.policy = policy; self.policySHA256 = policySHA256; self.hostname = hostname; self.kernel = kernel
        self.wardenVersion = wardenVersion; self.auditedSyscalls = auditedSyscalls
    }

    func json(traceID: TraceID) -> JSONObject {
        JSONObject([
            ("run", .string(runID)), ("trace_id", .string(traceID.hex)), ("agent", .string(agentName)),
            ("spec", spec), ("spec_sha256", .string(specSHA256)),
            ("policy", policy), ("policy_sha256", .string(policySHA256)),
            ("host", .object(JSONObject([("hostname", .string(hostname)), ("kernel", .string(kernel))]))),
            ("warden_version", .string(wardenVersion)),
            ("audited_syscalls", RecordBody.strings(auditedSyscalls)),
        ])
    }
}

/// `process.spawn`: a process started in the sandbox.
public struct ProcessSpawn: Sendable {
    public var pid: Int32
    public var executable: String
    public var argv: [String]
    public var cgroup: String?

    public init(pid: Int32, executable: String, argv: [String], cgroup: String? = nil) {
        self.pid = pid; self.executable = executable; self.argv = argv; self.cgroup = cgroup
    }

    var json: JSONObject {
        JSONObject([("pid", RecordBody.int(pid)), ("executable", .string(executable)),
                    ("argv", RecordBody.strings(argv)), ("cgroup", cgroup.map { .string($0) } ?? .null)])
    }
}

/// `process.exit`: how a process ended and what it used.
public struct ProcessExit: Sendable {
    public var pid: Int32
    public var exitCode: Int32?
    public var signal: Int32?
    public var oomKilled = false
    public var pidsLimitHit = false
    public var timedOut = false
    public var seccompKilled = false
    /// getrusage-style figures of the reaped child.
    public var userCPUNanoseconds: UInt64?
    public var systemCPUNanoseconds: UInt64?
    public var maxRSSKilobytes: UInt64?
    /// From the cgroup: peak memory and total CPU time of the whole tree.
    public var peakMemoryBytes: UInt64?
    public var cgroupCPUNanoseconds: UInt64?

    public init(pid: Int32, exitCode: Int32?, signal: Int32?) {
        self.pid = pid; self.exitCode = exitCode; self.signal = signal
    }

    var json: JSONObject {
        JSONObject([
            ("pid", RecordBody.int(pid)), ("exit_code", RecordBody.optionalInt(exitCode)),
            ("signal", RecordBody.optionalInt(signal)), ("oom_killed", .bool(oomKilled)),
            ("pids_limit_hit", .bool(pidsLimitHit)), ("timed_out", .bool(timedOut)),
            ("seccomp_killed", .bool(seccompKilled)),
            ("rusage", .object(JSONObject([
                ("user_cpu_ns", RecordBody.optionalInt(userCPUNanoseconds)),
                ("system_cpu_ns", RecordBody.optionalInt(systemCPUNanoseconds)),
                ("max_rss_kb", RecordBody.optionalInt(maxRSSKilobytes)),
            ]))),
            ("peak_memory_bytes", RecordBody.optionalInt(peakMemoryBytes)),
            ("cgroup_cpu_ns", RecordBody.optionalInt(cgroupCPUNanoseconds)),
        ])
    }
}

/// `seccomp.denial`: a syscall the policy audits, refused by the supervisor with `errno`.
/// Arguments are numbers only: no decision may rest on pointer contents (TOCTOU).
public struct SeccompDenial: Sendable {
    public var pid: Int32
    public var syscall: String
    public var number: Int32
    public var arguments: [UInt64]
    public var errno: Int32
    public var architecture: String

    public init(pid: Int32, syscall: String, number: Int32, arguments: [UInt64], errno: Int32, architecture: String = "x86_64") {
        self.pid = pid; self.syscall = syscall; self.number = number; self.arguments = arguments
        self.errno = errno; self.architecture = architecture
    }

    var json: JSONObject {
        JSONObject([("pid", RecordBody.int(pid)), ("syscall", .string(syscall)), ("nr", RecordBody.int(number)),
                    ("args", .array(arguments.map { RecordBody.int($0) })), ("errno", RecordBody.int(errno)),
                    ("arch", .string(architecture))])
    }
}

/// `limit.event`: a resource limit was reached (memory, pids, wall time, cpu) and what was done.
public struct LimitEvent: Sendable {
    public var limit: String     // "memory", "pids", "wall_time", "cpu", "output"
    public var action: String    // "killed", "refused", "throttled", "truncated"
    public var value: UInt64?    // the configured limit
    public var detail: String

    public init(limit: String, action: String, value: UInt64? = nil, detail: String = "") {
        self.limit = limit; self.action = action; self.value = value; self.detail = detail
    }

    var json: JSONObject {
        JSONObject([("limit", .string(limit)), ("action", .string(action)),
                    ("value", RecordBody.optionalInt(value)), ("detail", .string(detail))])
    }
}

/// `run.end`: how the run ended, as the supervisor reports it.
public struct RunEnd: Sendable {
    public var status: String    // "ok", "failed", "killed", "timed_out", "error"
    public var exitCode: Int32?
    public var signal: Int32?
    public var reason: String
    /// Limits the host could not enforce (e.g. no cgroup controller), so an auditor sees them.
    public var notEnforced: [String]

    public init(status: String, exitCode: Int32?, signal: Int32? = nil, reason: String = "", notEnforced: [String] = []) {
        self.status = status; self.exitCode = exitCode; self.signal = signal; self.reason = reason; self.notEnforced = notEnforced
    }

    func json(outputBytes: [String: UInt64], droppedBytes: [String: UInt64]) -> JSONObject {
        JSONObject([
            ("status", .string(status)), ("exit_code", RecordBody.optionalInt(exitCode)),
            ("signal", RecordBody.optionalInt(signal)), ("reason", .string(reason)),
            ("not_enforced", RecordBody.strings(notEnforced)),
            ("output_bytes", .object(JSONObject(outputBytes.sorted { $0.key < $1.key }.map { ($0.key, RecordBody.int($0.value)) }))),
            ("output_dropped_bytes", .object(JSONObject(droppedBytes.sorted { $0.key < $1.key }.map { ($0.key, RecordBody.int($0.value)) }))),
        ])
    }
}
