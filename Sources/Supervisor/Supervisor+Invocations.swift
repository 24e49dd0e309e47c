import Glibc
import HostOS
import Sandbox
import TraceStore

extension Supervisor {
    /// Accepts an invocation of `agent` with `input` on its stdin: stored durably (record and input)
    /// before it is queued, so that a crash cannot lose it. Throws 404, 429 (queue full) or 503.
    public func invoke(agent name: String, input: [UInt8], deadlineSeconds: Double? = nil) throws(SupervisorError) -> RunRecord {
        var record = RunRecord(id: RunID.make(), agent: name, createdNanos: wallNow(), deadlineSeconds: deadlineSeconds)
        try lock.withLock { () throws(SupervisorError) in try admissible(name) }
        try store.saveAccepted(record, input: input)
        do throws(SupervisorError) {
            try lock.withLock { () throws(SupervisorError) in
                try admissible(name)   // again: the queue may have filled while the files were written
                accept(record, input: input)
                dispatchLocked(name)
            }
        } catch {
            store.removeRun(record.id)
            throw error
        }
        metrics.invocationAccepted()
        record = lock.withLock { runs[record.id] } ?? record
        return record
    }

    /// Throws unless `name` can take one more invocation now (lock held); counts refusals.
    private func admissible(_ name: String) throws(SupervisorError) {
        if shuttingDown {
            metrics.invocationRejected("shutting_down")
            throw SupervisorError(.shuttingDown, "the supervisor is shutting down")
        }
        guard let agent = agents[name] else { throw SupervisorError(.notFound, "no agent named \"\(name)\"") }
        let busy = agent.record.serve ? !agent.replicas.contains(where: \.isIdle) : agent.running >= agent.record.concurrency
        if busy && agent.pending.count >= agent.record.queueLimit {
            metrics.invocationRejected("queue_full")
            throw SupervisorError(.queueFull, "agent \"\(name)\" has \(agent.running) runs and \(agent.pending.count) queued (limit \(agent.record.queueLimit))")
        }
    }

    /// Adds an accepted (stored) invocation to its agent's queue (lock held).
    func accept(_ record: RunRecord, input: [UInt8]) {
        runs[record.id] = record
        runOrder.append(record.id)
        live[record.id] = LiveRun(input: input)
        agents[record.agent]?.pending.append(record.id)
        lock.broadcast()
    }

    /// Starts queued invocations of `name` while it has free slots (lock held).
    func dispatchLocked(_ name: String) {
        guard let agent = agents[name] else { return }
        if agent.record.serve { return dispatchToReplicasLocked(agent) }
        while agent.running < agent.record.concurrency, !agent.pending.isEmpty {
            let id = agent.pending.removeFirst()
            guard let liveRun = live[id], var record = runs[id] else { continue }
            agent.running += 1
            executing += 1
            record.state = .running
            record.startedNanos = wallNow()
            runs[id] = record
            let spec = agent.spec
            metrics.queueWaited(seconds: Double(monotonicNow() - liveRun.acceptedAt) / 1e9)
            let starting = record
            let started = startDetachedThread { [self] in execute(starting, spec: spec, agent: agent, live: liveRun) }
            if !started {
                agent.running -= 1
                executing -= 1
                runs[id]?.state = .error
                runs[id]?.message = "no thread could be started for the run"
                live[id] = nil
            }
        }
    }

    /// Ends a run that never started (stopped in the queue, its agent removed, lost input).
    func finishUnstarted(_ id: String, state: RunRecord.State, message: String) {
        let record: RunRecord? = lock.withLock {
            guard var record = runs[id], !record.state.isFinal else { return nil }
            record.state = state
            record.message = message
            record.endedNanos = wallNow()
            runs[id] = record
            live[id] = nil
            lock.broadcast()
            return record
        }
        guard let record else { return }
        try? store.saveRun(record)
        metrics.invocationFinished(state)
    }

    /// Stops a run: a queued one leaves its queue; a running one gets SIGTERM (every process of its
    /// sandbox) and, if it has not ended after `graceSeconds`, its process tree is killed. With
    /// `graceSeconds` nil (`kill`) the tree is killed at once. Either way the run ends as `stopped`.
    public func stop(run id: String, graceSeconds: Double? = nil) throws(SupervisorError) -> RunRecord {
        let (queuedAgent, terminate): (String?, String?) = try lock.withLock { () throws(SupervisorError) -> (String?, String?) in
            guard let record = runs[id] else { throw SupervisorError(.notFound, "no run \"\(id)\"") }
            guard !record.state.isFinal, let liveRun = live[id] else {
                throw SupervisorError(.conflict, "run \(id) has already ended (\(record.state.rawValue))")
            }
            liveRun.stopRequested = true
            if record.state == .queued {
                agents[record.agent]?.pending.removeAll { $0 == id }
                return (record.agent, nil)
            }
            if record.replica != nil, let slot = agents[record.agent]?.replicas.first(where: { $0.serving == id }) {
                // Served by a replica: its state is unknown after a stop, so the replica goes too.
                slot.serving = nil
                if let replicaRun = slot.runID { killReplicaRunLocked(replicaRun) }
                let agent = agents[record.agent]
                startDetachedThread { [self] in
                    finishServed(id, slot: nil, of: agent, state: .stopped, status: nil, output: [], message: "stopped while a replica served it")
                }
                return (nil, nil)
            }
            if let graceSeconds, graceSeconds > 0, let group = liveRun.cgroupName { return (nil, group) }
            if liveRun.stopWriter >= 0 { close(liveRun.stopWriter); liveRun.stopWriter = -1 }
            return (nil, nil)
        }
        if queuedAgent != nil { finishUnstarted(id, state: .stopped, message: "stopped before it started") }
        if let terminate {
            Self.signalGroup(terminate, SIGTERM)
            let deadline = monotonicNow() + UInt64((graceSeconds ?? 0) * 1e9)
            startDetachedThread { [self] in
                // Past the grace period the tree is killed, as `kill` does at once.
                guard let record = try? waitForEnd(of: id, deadline: deadline), !record.state.isFinal else { return }
                lock.withLock {
                    if let liveRun = live[id], liveRun.stopWriter >= 0 { close(liveRun.stopWriter); liveRun.stopWriter = -1 }
                }
            }
        }
        return try run(id)
    }

    /// Sends `signal` to every process in the run group `name` (the first hierarchy that lists
    /// them: the unified one, else the v1 pids one). An agent that is its namespace's init only
    /// sees signals it has a handler for, as in a container.
    static func signalGroup(_ name: String, _ signal: Int32) {
        let layout = Cgroups.Layout.host
        let owners = (layout.v2.map { [$0.ownDirectory] } ?? []) + layout.v1.map(\.ownDirectory)
        for owner in owners {
            let path = owner + "/" + Cgroups.RunGroup.parentName + "/" + name + "/cgroup.procs"
            guard let bytes = try? readFile(path, limit: 1 << 20) else { continue }
            let pids = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
            for pid in pids { kill(pid, signal) }
            if !pids.isEmpty { return }
        }
    }

    /// Waits until run `id` is final or `deadline` (monotonic ns) passes; returns its record.
    public func waitForEnd(of id: String, deadline: UInt64 = .max) throws(SupervisorError) -> RunRecord {
        try lock.withLock { () throws(SupervisorError) -> RunRecord in
            while true {
                guard let record = runs[id] else { throw SupervisorError(.notFound, "no run \"\(id)\"") }
                if record.state.isFinal || monotonicNow() >= deadline { return record }
                lock.wait(untilMonotonic: min(deadline, monotonicNow() + 1_000_000_000))
            }
        }
    }

    /// Drops the oldest finished runs beyond the retention limit (records and logs).
    func applyRetention() {
        let doomed: [String] = lock.withLock {
            let finished = runOrder.filter { runs[$0]?.state.isFinal ?? false }
            guard finished.count > config.runRetention else { return [] }
            let doomed = Array(finished.prefix(finished.count - config.runRetention))
            let set = Set(doomed)
            for id in doomed { runs[id] = nil }
            runOrder.removeAll { set.contains($0) }
            return doomed
        }
        for id in doomed { store.removeRun(id) }
    }

    /// Stops taking work, lets running and queued invocations finish within `graceSeconds`, then
    /// kills what still runs (ended as `stopped`); invocations still queued stay in the store and
    /// run at the next start. Returns once no run thread is left.
    public func shutdown(graceSeconds: Double) {
        let deadline = monotonicNow() + UInt64(max(0, graceSeconds) * 1e9)
        lock.withLock {
            shuttingDown = true
            // Replicas never finish on their own: plain ones are stopped now; serving ones first
            // finish the invocations queued for them, within the same grace period.
            for agent in agents.values where !agent.record.serve { stopReplicasLocked(agent) }
            lock.broadcast()
            while busyLocked && monotonicNow() < deadline { lock.wait(untilMonotonic: deadline) }
            // Past the grace period (or drained): nothing more starts, and what runs is killed.
            for agent in agents.values {
                agent.pending = []
                stopReplicasLocked(agent)
            }
            // Every live run is marked, so one still being set up closes its stop pipe at once.
            for liveRun in live.values {
                liveRun.stopRequested = true
                if liveRun.stopWriter >= 0 { close(liveRun.stopWriter) }
                liveRun.stopWriter = -1
            }
            while executing > 0 || replicaThreads > 0 { lock.wait(untilMonotonic: monotonicNow() + 1_000_000_000) }
        }
    }

    /// True while invocations run or wait (lock held): sandboxes of their own, or served by replicas.
    private var busyLocked: Bool {
        executing > 0 || agents.values.contains { $0.record.serve && (!$0.pending.isEmpty || $0.replicas.contains { $0.serving != nil }) }
    }
}
