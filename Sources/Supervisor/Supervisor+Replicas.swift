import Glibc
import Specs
import TraceStore

/// One long-lived replica of an agent: the run it has now and its restart history (all fields
/// under the supervisor's lock).
final class ReplicaSlot: @unchecked Sendable {
    let index: Int
    var live: Supervisor.LiveRun?
    var runID: String?
    var restarts = 0
    /// Monotonic times of the restarts inside the crash-loop window.
    var recentRestarts: [UInt64] = []
    var consecutiveFailures = 0
    /// Set when the slot is given up: by stop/undeploy/update/shutdown, after an end the restart
    /// policy does not restart, or in a crash loop.
    var stopped = false, exited = false, crashLooping = false
    var lastMessage = ""
    /// Serving replicas (Supervisor+Serving.swift): the write end of the sandbox's stdin, the
    /// invocation being served and the line waiting to be written for it, and since when it is idle.
    var stdinWriter: Int32 = -1
    var serving: String?
    var outbox: [UInt8]?
    var outboxInput: [UInt8] = []
    var servingDeadline: UInt64 = .max
    var idleSince = monotonicNow()
    /// Added by scaling up (may be retired when idle), as opposed to the agent's minimum.
    var scaled = false

    init(index: Int) { self.index = index }

    /// Ready to take an invocation: its sandbox's stdin is open and it serves none.
    var isIdle: Bool { stdinWriter >= 0 && serving == nil && !stopped }
    /// Counts toward the agent's replicas (not given up).
    var isActive: Bool { !stopped && !exited && !crashLooping }

    var state: String {
        if crashLooping { return "crash_loop" }
        if exited { return "exited" }
        if stopped { return "stopped" }
        if serving != nil { return "serving" }
        return live != nil ? "running" : "backoff"
    }

    var json: JSONValue {
        .object(JSONObject([("slot", .number(JSONNumber(index))), ("state", .string(state)),
                            ("run", runID.map { .string($0) } ?? .null), ("restarts", .number(JSONNumber(restarts))),
                            ("message", .string(lastMessage))]))
    }
}

extension Supervisor {
    /// Replaces the agent's replicas with `record.replicas` fresh ones (lock held): deploy, update, start-up.
    func restartReplicasLocked(_ agent: DeployedAgent) {
        stopReplicasLocked(agent)
        agent.replicas = []
        guard !shuttingDown else { return }
        for _ in 0..<agent.record.replicas { addReplicaLocked(agent) }
    }

    /// Starts one more replica slot for the agent (lock held).
    @discardableResult
    func addReplicaLocked(_ agent: DeployedAgent, scaled: Bool = false) -> ReplicaSlot {
        let slot = ReplicaSlot(index: (agent.replicas.map(\.index).max() ?? -1) + 1)
        slot.scaled = scaled
        agent.replicas.append(slot)
        replicaThreads += 1
        if !startDetachedThread({ [self] in superviseReplica(slot, of: agent) }) {
            replicaThreads -= 1
            slot.stopped = true
            slot.lastMessage = "no thread could be started for the replica"
        }
        return slot
    }

    /// Stops the agent's replicas: none restarts again, and running ones are killed (lock held).
    func stopReplicasLocked(_ agent: DeployedAgent) {
        for slot in agent.replicas {
            slot.stopped = true
            if let liveRun = slot.live {
                liveRun.stopRequested = true
                if liveRun.stopWriter >= 0 { close(liveRun.stopWriter) }
                liveRun.stopWriter = -1
            }
        }
        lock.broadcast()
    }

    /// A replica's life on its own thread: run, then restart per the agent's policy with
    /// exponential backoff, until it is stopped, the policy says no, or it is crash-looping.
    func superviseReplica(_ slot: ReplicaSlot, of agent: DeployedAgent) {
        defer { lock.withLock { replicaThreads -= 1; lock.broadcast() } }
        while let (record, spec, liveRun) = nextReplicaRun(slot, of: agent) {
            try? store.saveAccepted(record, input: [])
            let io = agent.record.serve ? startServing(slot, of: agent, run: record.id, live: liveRun) : nil
            let ended = runToEnd(record, spec: spec, live: liveRun)
            if let io { stopServing(slot, of: agent, io) }
            observeTrace(of: ended)
            guard let delay = replicaEnded(ended, slot, of: agent) else { return }
            let deadline = monotonicNow() + delay
            lock.withLock {
                while !slot.stopped && !shuttingDown && monotonicNow() < deadline { lock.wait(untilMonotonic: deadline) }
            }
        }
    }

    /// The replica's next run, registered as running; nil when the slot is done.
    private func nextReplicaRun(_ slot: ReplicaSlot, of agent: DeployedAgent) -> (RunRecord, AgentSpec, LiveRun)? {
        lock.withLock {
            guard !slot.stopped, !shuttingDown, agents[agent.record.name] === agent else { return nil }
            var record = RunRecord(id: RunID.make(), agent: agent.record.name, createdNanos: wallNow())
            record.replica = slot.index
            record.state = .running
            record.startedNanos = record.createdNanos
            let liveRun = LiveRun(input: [])
            runs[record.id] = record
            runOrder.append(record.id)
            live[record.id] = liveRun
            slot.live = liveRun
            slot.runID = record.id
            lock.broadcast()
            return (record, agent.spec, liveRun)
        }
    }

    /// Records a replica run's end and decides: the delay before the restart, or nil for none.
    private func replicaEnded(_ ended: RunRecord, _ slot: ReplicaSlot, of agent: DeployedAgent) -> UInt64? {
        let delay: UInt64? = lock.withLock {
            runs[ended.id] = ended
            live[ended.id] = nil
            slot.live = nil
            slot.lastMessage = ended.message
            defer { lock.broadcast() }
            if slot.stopped || shuttingDown {
                if slot.scaled { agent.replicas.removeAll { $0 === slot } }   // retired: out of the listing
                return nil
            }
            let failed = ended.state != .succeeded
            switch agent.record.restart {
            case .never: slot.exited = true; return nil
            case .onFailure where !failed: slot.exited = true; return nil
            default: break
            }
            let now = monotonicNow()
            let window = UInt64(config.crashLoopWindowSeconds * 1e9)
            slot.recentRestarts.removeAll { now - $0 > window }
            if slot.recentRestarts.count >= config.crashLoopRestarts {
                slot.crashLooping = true
                slot.lastMessage = "crash loop: restarted \(slot.recentRestarts.count) times within \(config.crashLoopWindowSeconds) s; last run: \(ended.message)"
                return nil
            }
            slot.recentRestarts.append(now)
            slot.restarts += 1
            slot.consecutiveFailures = failed ? slot.consecutiveFailures + 1 : 0
            // Exponential backoff from the configured base, capped at 60 s (Kubernetes caps at 5 min).
            let base = UInt64(config.restartBackoffMilliseconds) * 1_000_000
            let shift = UInt64(min(max(slot.consecutiveFailures - 1, 0), 16))
            return min(base << shift, 60_000_000_000)
        }
        if delay != nil { metrics.replicaRestarted() }
        applyRetention()
        return delay
    }

    /// Replicas in a crash loop now, over all agents (for /metrics).
    var crashLoopingReplicas: Int {
        lock.withLock { agents.values.reduce(0) { $0 + $1.replicas.filter(\.crashLooping).count } }
    }
}
