import Broker
import Glibc
import HostOS
import Specs
import TraceStore

/// How an agent is deployed, beyond its spec (nil: the current value, else the default).
public struct DeployOptions: Sendable {
    public var concurrency: Int?
    public var queueLimit: Int?
    public var replicas: Int?
    public var restart: RestartPolicy?
    public var serve: Bool?
    public var maxReplicas: Int?
    public var idleSeconds: Double?
    public init(concurrency: Int? = nil, queueLimit: Int? = nil, replicas: Int? = nil, restart: RestartPolicy? = nil) {
        self.concurrency = concurrency; self.queueLimit = queueLimit; self.replicas = replicas; self.restart = restart
    }
}

/// The supervisor: deployed agents, their invocation queues and runs, the crash-safe state store,
/// and the metrics. Thread-safe: one lock guards the in-memory state and its condition wakes
/// whoever waits for a run to change (`?wait=true`, `logs -f`, the shutdown drain). Store writes
/// happen outside the lock where ordering allows, so a slow fsync does not stall the API.
public final class Supervisor: @unchecked Sendable {
    /// A deployed agent and its queue.
    final class DeployedAgent: @unchecked Sendable {
        var record: DeploymentRecord
        var spec: AgentSpec
        /// Accepted invocations waiting for a slot, oldest first.
        var pending: [String] = []
        /// Invocations running now (at most `record.concurrency`).
        var running = 0
        /// The long-lived replicas (Supervisor+Replicas.swift).
        var replicas: [ReplicaSlot] = []
        init(record: DeploymentRecord, spec: AgentSpec) { self.record = record; self.spec = spec }
    }

    /// What the supervisor holds for a run that is queued or running (its fields under `lock`).
    final class LiveRun: @unchecked Sendable {
        var input: [UInt8]
        let acceptedAt = monotonicNow()
        /// The write end of the run's stop pipe; closing it kills the sandbox's process tree.
        var stopWriter: Int32 = -1
        var stopRequested = false
        /// The sandbox's cgroup name, once it is being set up (for `stop`'s SIGTERM).
        var cgroupName: String?
        /// The run's trace once started (a serving replica records each invocation's input in it).
        var recorder: TraceRecorder?
        /// For a serving replica: the pipe ends its sandbox gets as stdin and stdout.
        var replicaIO: (stdinReader: Int32, stdoutWriter: Int32)?
        init(input: [UInt8]) { self.input = input }
    }

    public let config: SupervisorConfig
    public let store: StateStore
    /// The models every run's broker (and the control socket's model API) serves: one inference pool
    /// shared by all agents, so their requests are batched together and queued fairly.
    public let models: ModelCatalog
    let metrics = Metrics()
    let lock = ConditionLock()
    var agents: [String: DeployedAgent] = [:]
    /// Deployment order, for listings.
    var agentOrder: [String] = []
    var runs: [String: RunRecord] = [:]
    var runOrder: [String] = []
    var live: [String: LiveRun] = [:]
    var shuttingDown = false
    /// Runs being executed on their threads (the drain waits for 0).
    var executing = 0
    /// Replica supervision threads alive (the shutdown waits for 0 after stopping replicas).
    var replicaThreads = 0

    /// Opens the state store and loads what it holds (no recovery yet: call `recover()`).
    public init(config: SupervisorConfig) throws(SupervisorError) {
        self.config = config
        do { models = try ModelCatalog.configured(path: config.modelsPath) } catch {
            throw SupervisorError(.configuration, error.message)
        }
        store = try StateStore(directory: config.stateDirectory)
    }

    /// The trace directory runs are recorded in.
    var traceDirectory: TraceDirectory { TraceDirectory(path: config.traceDirectory) }

    // MARK: Agents

    /// Deploys the agent in the spec at `specPath`, validated as `warden run` validates it.
    public func deploy(specPath: String, options: DeployOptions = DeployOptions(), replace: String? = nil) throws(SupervisorError) -> DeploymentRecord {
        let path = try resolveSpecPath(specPath)
        let spec: AgentSpec
        do throws(SpecError) { spec = try AgentSpec.load(path: path) } catch {
            throw SupervisorError(.invalidSpec, error.description)
        }
        if let replace, replace != spec.name {
            throw SupervisorError(.badRequest, "the spec at \(path) names agent \"\(spec.name)\", not \"\(replace)\"")
        }
        try checkSocketHidden(spec)
        return try lock.withLock { () throws(SupervisorError) -> DeploymentRecord in
            if shuttingDown { throw SupervisorError(.shuttingDown, "the supervisor is shutting down") }
            let existing = agents[spec.name]
            if replace == nil, existing != nil { throw SupervisorError(.conflict, "an agent named \"\(spec.name)\" is already deployed") }
            if replace != nil, existing == nil { throw SupervisorError(.notFound, "no agent named \"\(spec.name)\"") }
            let record = DeploymentRecord(name: spec.name, specPath: path,
                                          concurrency: options.concurrency ?? existing?.record.concurrency ?? config.concurrency,
                                          queueLimit: options.queueLimit ?? existing?.record.queueLimit ?? config.queueLimit,
                                          replicas: options.replicas ?? existing?.record.replicas ?? 0,
                                          restart: options.restart ?? existing?.record.restart ?? .onFailure)
            var deployment = record
            deployment.serve = options.serve ?? existing?.record.serve ?? false
            deployment.idleSeconds = options.idleSeconds ?? existing?.record.idleSeconds ?? 60
            deployment.maxReplicas = max(options.maxReplicas ?? existing?.record.maxReplicas ?? 0, deployment.replicas, deployment.serve ? 1 : 0)
            var records = agentOrder.compactMap { agents[$0]?.record }
            if let index = records.firstIndex(where: { $0.name == spec.name }) { records[index] = deployment } else { records.append(deployment) }
            try store.saveAgents(records)   // durable before the caller hears it is deployed
            if let existing {
                existing.record = deployment
                existing.spec = spec
            } else {
                agents[spec.name] = DeployedAgent(record: deployment, spec: spec)
                agentOrder.append(spec.name)
            }
            dispatchLocked(spec.name)
            if let agent = agents[spec.name] { restartReplicasLocked(agent) }
            return deployment
        }
    }

    /// Removes an agent: its queued invocations end as `error`; running ones finish.
    public func remove(agent name: String) throws(SupervisorError) {
        let dropped = try lock.withLock { () throws(SupervisorError) -> [String] in
            guard let agent = agents[name] else { throw SupervisorError(.notFound, "no agent named \"\(name)\"") }
            try store.saveAgents(agentOrder.filter { $0 != name }.compactMap { agents[$0]?.record })
            agents[name] = nil
            agentOrder.removeAll { $0 == name }
            stopReplicasLocked(agent)
            let dropped = agent.pending
            agent.pending = []
            return dropped
        }
        for id in dropped { finishUnstarted(id, state: .error, message: "the agent was removed before the run started") }
    }

    /// The deployed agents with their queue figures.
    public func listAgents() -> [JSONValue] {
        lock.withLock {
            agentOrder.compactMap { name in
                guard let agent = agents[name] else { return nil }
                return .object(JSONObject([
                    ("name", .string(name)), ("spec", .string(agent.record.specPath)),
                    ("description", .string(agent.spec.description)),
                    ("concurrency", .number(JSONNumber(agent.record.concurrency))),
                    ("queue_limit", .number(JSONNumber(agent.record.queueLimit))),
                    ("running", .number(JSONNumber(agent.running))), ("queued", .number(JSONNumber(agent.pending.count))),
                    ("restart", .string(agent.record.restart.rawValue)), ("serve", .bool(agent.record.serve)),
                    ("max_replicas", .number(JSONNumber(agent.record.maxReplicas))),
                    ("replicas", .array(agent.replicas.map(\.json))),
                ]))
            }
        }
    }

    /// Runs, oldest first, optionally of one agent.
    public func listRuns(agent: String? = nil) -> [RunRecord] {
        lock.withLock { runOrder.compactMap { runs[$0] }.filter { agent == nil || $0.agent == agent } }
    }

    /// One run's record.
    public func run(_ id: String) throws(SupervisorError) -> RunRecord {
        guard let run = lock.withLock({ runs[id] }) else { throw SupervisorError(.notFound, "no run \"\(id)\"") }
        return run
    }

    /// An absolute spec path: as given when absolute, else NAME.json or NAME in the agents directory.
    func resolveSpecPath(_ given: String) throws(SupervisorError) -> String {
        if given.hasPrefix("/") { return given }
        if let directory = config.agentsDirectory {
            // NAME.json first: AgentSpecs keeps an agent's code in a directory named like the agent.
            for candidate in [directory + "/" + given + ".json", directory + "/" + given] where Self.isRegularFile(candidate) {
                return candidate
            }
            throw SupervisorError(.invalidSpec, "no spec \"\(given)\" in the agents directory \(directory)")
        }
        throw SupervisorError(.badRequest, "$.spec: the spec path must be absolute (the supervisor's working directory is not yours), got \"\(given)\"")
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// The Prometheus text for `/metrics`.
    public func metricsText(openMetrics: Bool = false) -> String {
        let (deployed, running, queued, draining) = lock.withLock {
            (agents.count, agents.values.reduce(0) { $0 + $1.running + $1.replicas.filter { $0.live != nil }.count },
             agents.values.reduce(0) { $0 + $1.pending.count }, shuttingDown)
        }
        let own = metrics.render(agentsDeployed: deployed, runsRunning: running, queueDepth: queued, shuttingDown: draining,
                                 crashLooping: crashLoopingReplicas, openMetrics: openMetrics)
        // The pool's families (warden_pool_*) after the supervisor's, before OpenMetrics' closing `# EOF`.
        let pool = models.prometheusText(perAgent: false, openMetrics: openMetrics)
        guard openMetrics, own.hasSuffix("# EOF\n") else { return own + pool }
        return String(own.dropLast("# EOF\n".count)) + pool + "# EOF\n"
    }

    /// Whether the supervisor has begun shutting down.
    public var isShuttingDown: Bool { lock.withLock { shuttingDown } }
}
