import Glibc
import Sandbox
import Specs
import TraceStore

/// What `Supervisor.recover()` found and did at start.
public struct RecoverySummary: Sendable {
    /// Agents loaded again from their spec files.
    public var agents: [String] = []
    /// Agents the store held whose spec no longer loads (with why); they are not deployed.
    public var unloadable: [String] = []
    /// Runs that were running when the last supervisor died: now `interrupted`.
    public var interrupted: [String] = []
    /// Accepted invocations that had not started: queued again.
    public var requeued: [String] = []
    /// Accepted invocations that cannot run (input or agent gone): now `error`.
    public var failed: [String] = []
    /// Sandbox cgroups left by a dead supervisor, killed and removed.
    public var cgroupsRemoved: [String] = []
    /// Traces left open by a dead writer, closed by trace recovery (the interrupted runs' with a
    /// `run.interrupted` record and status `interrupted`).
    public var tracesClosed: [String] = []
    /// Store files that could not be read.
    public var unreadable: [String] = []
    /// Anything else recovery could not do (trace recovery refused damage, ...).
    public var problems: [String] = []
}

extension Supervisor {
    /// Loads the state store and repairs what a crash left: sandboxes of the dead supervisor are
    /// found through their cgroups (named with that supervisor's pid and start time) and killed,
    /// their traces closed by trace recovery, their runs marked `interrupted`; accepted invocations
    /// that never started are queued again (or marked `error` when they cannot run), never dropped.
    public func recover() throws(SupervisorError) -> RecoverySummary {
        var summary = RecoverySummary()
        var loaded: [(DeploymentRecord, AgentSpec)] = []
        for record in try store.loadAgents() {
            do throws(SpecError) {
                let spec = try AgentSpec.load(path: record.specPath)
                do throws(SupervisorError) { try checkSocketHidden(spec) } catch {
                    summary.unloadable.append("\(record.name): \(error.message)")
                    continue
                }
                loaded.append((record, spec))
            } catch {
                summary.unloadable.append("\(record.name): \(error)")
            }
        }
        summary.agents = loaded.map(\.0.name)
        let noticed = wallNow()
        let left = Self.leftSandboxes()
        summary.cgroupsRemoved = Self.removeLeftSandboxes()
        // What is still there, whoever removed the rest: any `warden exec` on the host also
        // removes the groups of dead supervisors (its orphan scan), and may have got there first.
        let remaining = Set(Self.runGroupsOfDeadSupervisors().map { $0.split(separator: "/").last.map(String.init) ?? $0 })
        let (stored, unreadable) = store.loadRuns()
        summary.unreadable = unreadable
        let (requeue, changed) = triage(stored, deployed: Set(loaded.map(\.0.name)), summary: &summary)
        closeLeftTraces(InterruptedRuns(ids: Set(summary.interrupted), noticedNanos: noticed, left: left,
                                        remaining: remaining), summary: &summary)
        for run in changed { try store.saveRun(run) }
        let changedByID = Dictionary(changed.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        lock.withLock {
            for (record, spec) in loaded {
                agents[record.name] = DeployedAgent(record: record, spec: spec)
                agentOrder.append(record.name)
            }
            for (run, _) in stored where run.state != .queued || changedByID[run.id] != nil {
                runs[run.id] = changedByID[run.id] ?? run
                runOrder.append(run.id)
            }
            for (run, input) in requeue { accept(run, input: input) }
            for name in agentOrder { dispatchLocked(name) }
            for agent in agents.values { restartReplicasLocked(agent) }
        }
        return summary
    }
}

extension Supervisor {
    /// Trace recovery of the runs a crash left open; the ones the dead supervisor was running end
    /// with a `run.interrupted` record saying so, not just `recovered`.
    func closeLeftTraces(_ interrupted: InterruptedRuns, summary: inout RecoverySummary) {
        guard access(config.traceDirectory + "/host.index", F_OK) == 0 else { return }
        do throws(TraceError) {
            summary.tracesClosed = try TraceRecovery.recover(directory: traceDirectory, closing: interrupted.ending).closedRuns
        } catch {
            summary.problems.append("trace recovery: \(error)")
        }
    }

    /// Decides the fate of stored runs that were not final: started ones are interrupted (their
    /// sandboxes are gone), accepted ones with their input and agent are queued again, the rest fail.
    func triage(_ stored: [(record: RunRecord, input: [UInt8]?)], deployed: Set<String>,
                summary: inout RecoverySummary) -> (requeue: [(RunRecord, [UInt8])], changed: [RunRecord]) {
        var requeue: [(RunRecord, [UInt8])] = []
        var changed: [RunRecord] = []
        for (var run, input) in stored {
            switch run.state {
            case .queued where store.hasStarted(run.id) || run.replica != nil, .running:
                run.state = .interrupted
                run.message = "the supervisor stopped while the run was running; its sandbox was killed at the next start"
                summary.interrupted.append(run.id)
            case .queued:
                if deployed.contains(run.agent), let input {
                    requeue.append((run, input))
                    summary.requeued.append(run.id)
                    continue
                }
                run.state = .error
                run.message = "accepted, but its agent or input was gone after a supervisor restart"
                summary.failed.append(run.id)
            default:
                continue
            }
            run.endedNanos = wallNow()
            changed.append(run)
        }
        return (requeue, changed)
    }

    /// Kills and removes the sandboxes of dead supervisors (the Sandbox target's orphan scan),
    /// retrying for a few seconds: right after a kill -9 the dying tasks can keep a group busy.
    static func removeLeftSandboxes() -> [String] {
        var removed = Set(Cgroups.removeOrphanedRuns(layout: .host))
        let deadline = monotonicNow() + 5_000_000_000
        while !runGroupsOfDeadSupervisors().isEmpty && monotonicNow() < deadline {
            usleep(50_000)
            removed.formUnion(Cgroups.removeOrphanedRuns(layout: .host))
        }
        return removed.sorted()
    }

    /// `run-<pid>-...` groups under the warden parents whose supervisor pid no longer exists.
    static func runGroupsOfDeadSupervisors() -> [String] {
        let layout = Cgroups.Layout.host
        let parents = (layout.v1.map(\.ownDirectory) + (layout.v2.map { [$0.ownDirectory] } ?? []))
            .map { $0 + "/" + Cgroups.RunGroup.parentName }
        return parents.flatMap { parent in
            StateStore.entries(of: parent).filter { name in
                let parts = name.split(separator: "-")
                guard parts.count >= 3, parts[0] == "run", let pid = Int32(parts[1]) else { return false }
                return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
            }.map { parent + "/" + $0 }
        }
    }
}
