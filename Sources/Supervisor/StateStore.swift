import HostOS
import Glibc
import Specs
import Synchronization

/// The state directories this process has locked.
private let claims = Mutex<Set<String>>([])

/// What the store keeps about a deployed agent: enough to load it again after a restart.
public struct DeploymentRecord: Sendable, Equatable {
    public var name: String
    /// The spec file, absolute (specs name their policy and code relative to themselves).
    public var specPath: String
    /// Invocations running at once, and waiting, for this agent.
    public var concurrency: Int
    public var queueLimit: Int
    /// Long-lived sandboxes kept running for this agent (0: invocations only), and when they are restarted.
    public var replicas: Int = 0
    public var restart: RestartPolicy = .onFailure
    /// Whether the replicas serve the agent's invocations (JSON lines on stdin and stdout,
    /// Supervisor+Serving.swift) instead of each invocation getting a fresh sandbox; then
    /// `replicas` is the minimum, scaled up to `maxReplicas` while invocations wait, and back down
    /// after `idleSeconds` without work.
    public var serve = false
    public var maxReplicas = 0
    public var idleSeconds: Double = 60

    var json: JSONValue {
        .object(JSONObject([("name", .string(name)), ("spec", .string(specPath)),
                            ("concurrency", .number(JSONNumber(concurrency))), ("queue_limit", .number(JSONNumber(queueLimit))),
                            ("replicas", .number(JSONNumber(replicas))), ("restart", .string(restart.rawValue)),
                            ("serve", .bool(serve)), ("max_replicas", .number(JSONNumber(maxReplicas))),
                            ("idle_seconds", JSONNumber(idleSeconds).map { .number($0) } ?? .null)]))
    }

    init(name: String, specPath: String, concurrency: Int, queueLimit: Int, replicas: Int = 0, restart: RestartPolicy = .onFailure) {
        self.name = name; self.specPath = specPath; self.concurrency = concurrency; self.queueLimit = queueLimit
        self.replicas = replicas; self.restart = restart
    }

    init?(json value: JSONValue) {
        guard case .object(let o) = value, case .string(let name)? = o["name"], case .string(let spec)? = o["spec"],
              case .number(let c)? = o["concurrency"], let concurrency = c.int64,
              case .number(let q)? = o["queue_limit"], let queueLimit = q.int64 else { return nil }
        self.init(name: name, specPath: spec, concurrency: Int(concurrency), queueLimit: Int(queueLimit))
        if case .number(let r)? = o["replicas"], let replicas = r.int64 { self.replicas = Int(replicas) }
        if case .string(let text)? = o["restart"], let restart = RestartPolicy(rawValue: text) { self.restart = restart }
        if case .bool(let flag)? = o["serve"] { serve = flag }
        if case .number(let n)? = o["max_replicas"], let value = n.int64 { maxReplicas = Int(value) }
        if case .number(let n)? = o["idle_seconds"] { idleSeconds = n.double }
    }
}

/// When a long-lived replica is started again after it ends.
public enum RestartPolicy: String, Sendable, CaseIterable {
    case never
    /// After a non-zero exit, a signal, a timeout or an OOM kill; not after exit 0.
    case onFailure = "on-failure"
    case always
}

/// The supervisor's crash-safe state: `agents.json` (the deployed agents), `runs/<id>.json` (one
/// record per run; an accepted run's record carries its input until the run ends) and
/// `logs/<id>.stdout|stderr` (created as the run's sandbox is set up: a queued record whose log
/// exists had started).
///
/// Every record is replaced whole by write-to-temporary, fsync, rename, fsync of the directory
/// (the sequence SQLite and etcd rely on): after a kill -9 or a power cut a reader finds either the
/// old file or the new one, never a torn one. Temporary files left by a crash are removed at open.
public struct StateStore: Sendable {
    public let directory: String
    var runsDirectory: String { directory + "/runs" }
    var logsDirectory: String { directory + "/logs" }
    var agentsPath: String { directory + "/agents.json" }

    /// Opens (creating) the store at `directory`.
    public init(directory: String) throws(SupervisorError) {
        self.directory = directory
        for path in [directory, runsDirectory, logsDirectory] { try Self.makeDirectories(path) }
        try Self.claim(directory)
        for dir in [directory, runsDirectory] {
            for name in Self.entries(of: dir) where name.contains(".tmp-") { unlink(dir + "/" + name) }
        }
    }

    /// The deployed agents, in deployment order.
    public func loadAgents() throws(SupervisorError) -> [DeploymentRecord] {
        guard access(agentsPath, F_OK) == 0 else { return [] }
        let value: JSONValue
        do { value = try JSONParser.parse(try readFile(agentsPath, limit: 64 << 20), file: agentsPath) } catch {
            throw SupervisorError(.io, "\(agentsPath): \(error)")
        }
        guard case .object(let o) = value, case .array(let items)? = o["agents"] else {
            throw SupervisorError(.io, "\(agentsPath): not a state file")
        }
        return items.compactMap(DeploymentRecord.init(json:))
    }

    /// Replaces the list of deployed agents.
    public func saveAgents(_ agents: [DeploymentRecord]) throws(SupervisorError) {
        let value = JSONValue.object(JSONObject([("agents", .array(agents.map(\.json)))]))
        try Self.replace(agentsPath, with: JSONWriter.compactBytes(value) + [0x0A])
    }

    /// Writes (or replaces) a run's record.
    public func saveRun(_ run: RunRecord) throws(SupervisorError) {
        try Self.replace(recordPath(run.id), with: JSONWriter.compactBytes(run.json) + [0x0A])
    }

    /// Writes an accepted run's record with its input, in one file and one atomic replace: the
    /// invocation is durable (and can be run after a crash) before the caller hears it is accepted.
    public func saveAccepted(_ run: RunRecord, input: [UInt8]) throws(SupervisorError) {
        guard case .object(var object) = run.json else { return }
        object["input_base64"] = .string(Base64Text.encode(input))
        try Self.replace(recordPath(run.id), with: JSONWriter.compactBytes(.object(object)) + [0x0A])
    }

    /// Every run record with its input where the record still has one, oldest first; unreadable
    /// records are skipped (and reported).
    public func loadRuns() -> (runs: [(record: RunRecord, input: [UInt8]?)], unreadable: [String]) {
        var runs: [(record: RunRecord, input: [UInt8]?)] = [], unreadable: [String] = []
        for name in Self.entries(of: runsDirectory) where name.hasSuffix(".json") {
            let path = runsDirectory + "/" + name
            guard let bytes = try? readFile(path, limit: 1 << 31), let value = try? JSONParser.parse(bytes),
                  let run = RunRecord(json: value) else { unreadable.append(path); continue }
            var input: [UInt8]?
            if case .object(let object) = value, case .string(let encoded)? = object["input_base64"] {
                input = Base64Text.decode(encoded)
            }
            runs.append((run, input))
        }
        return (runs.sorted { ($0.record.createdNanos, $0.record.id) < ($1.record.createdNanos, $1.record.id) }, unreadable)
    }

    /// True once a run's sandbox setup has begun (its log files exist).
    public func hasStarted(_ id: String) -> Bool { access(logPath(id, stream: "stdout"), F_OK) == 0 }

    /// Removes everything kept about a run (retention).
    public func removeRun(_ id: String) {
        unlink(recordPath(id))
        unlink(logPath(id, stream: "stdout"))
        unlink(logPath(id, stream: "stderr"))
    }

    func recordPath(_ id: String) -> String { runsDirectory + "/" + id + ".json" }

    /// Where a run's stdout or stderr is written as it runs.
    public func logPath(_ id: String, stream: String) -> String { logsDirectory + "/" + id + "." + stream }
}

extension StateStore {
    /// Atomically replaces `path` with `bytes`: temporary file, fsync, rename, fsync of the directory.
    static func replace(_ path: String, with bytes: [UInt8]) throws(SupervisorError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot create", temporary) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let error = SupervisorError.system("cannot write", temporary)
                close(fd); unlink(temporary)
                throw error
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let error = SupervisorError.system("cannot fsync", temporary)
            close(fd); unlink(temporary)
            throw error
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let error = SupervisorError.system("cannot rename onto", path)
            unlink(temporary)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// Locks the store for this process (flock on `lock`, held until the process exits): two
    /// supervisors on one state directory would kill each other's sandboxes and lose runs.
    /// Locking twice from one process is allowed (the same open file description is kept).
    static func claim(_ directory: String) throws(SupervisorError) {
        let path = directory + "/lock"
        let claimed: Bool = claims.withLock { held in
            if held.contains(path) { return true }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return false }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); return false }
            held.insert(path)   // the descriptor stays open on purpose: the lock lives as long as the process
            return true
        }
        if !claimed { throw SupervisorError(.alreadyRunning, "another supervisor uses the state directory \(directory)") }
    }

    /// fsync of the directory holding `path`, so the rename itself is durable.
    static func syncDirectory(of path: String) throws(SupervisorError) {
        let directory = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open", directory) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .system("cannot fsync", directory) }
    }

    /// mkdir -p with mode 0700 for directories it creates.
    static func makeDirectories(_ path: String) throws(SupervisorError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw .system("cannot create", current) }
        }
    }

    /// The names in a directory (no . or ..).
    static func entries(of path: String) -> [String] {
        ((try? FileDescriptor.directoryEntries(atPath: path)) ?? []).map(\.name)
    }
}
