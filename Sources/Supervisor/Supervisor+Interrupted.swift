import Glibc
import Sandbox
import Specs
import TraceStore

/// The `run.interrupted` records recovery ends the traces of runs with whose supervisor died while
/// they ran: which run, when the new supervisor noticed, and the sandbox it killed (the cgroup the
/// run's `process.spawn` record names: whether it was still there, the processes in it, whether it
/// is gone now).
struct InterruptedRuns: Sendable {
    /// Runs the state store says were running (now `interrupted`).
    let ids: Set<String>
    /// Wall-clock nanoseconds when this supervisor began its recovery.
    let noticedNanos: UInt64
    /// The dead supervisors' sandbox groups as found before they were killed: name -> pids in them.
    let left: [String: [Int32]]
    /// Dead supervisors' group names still present after the recovery. A group not among them is
    /// gone, whoever removed it (the recovery, or another process's orphan scan before it): the
    /// record says whether the sandbox is gone, not who removed it.
    let remaining: Set<String>

    /// The record for `runID` (nil for runs this supervisor did not see interrupted: those keep
    /// trace recovery's plain `recovered` close).
    func ending(_ runID: String, _ records: [TraceRecord]) -> TraceRecovery.Ending? {
        guard ids.contains(runID) else { return nil }
        var groups: [String] = []
        for record in records where record.type == .processSpawn {
            if case .string(let path)? = record.body["cgroup"], let name = path.split(separator: "/").last.map(String.init),
               !groups.contains(name) { groups.append(name) }
        }
        let killed: [JSONValue] = groups.map { name in
            .object(JSONObject([
                ("cgroup", .string(name)),
                ("pids", .array((left[name] ?? []).map { .number(JSONNumber(Int64($0))) })),
                ("found", .bool(left[name] != nil)), ("removed", .bool(!remaining.contains(name))),
            ]))
        }
        var body = JSONObject([
            ("run", .string(runID)),
            ("reason", .string("the supervisor stopped (killed or crashed) while the run was running; the next supervisor killed its sandbox")),
            ("noticed_ns", .number(JSONNumber(noticedNanos))),
            ("supervisor_pid", .number(JSONNumber(Int64(getpid())))),
            ("killed", .array(killed)),
        ])
        if let pid = groups.first.flatMap(Self.supervisorPID) { body["dead_supervisor_pid"] = .number(JSONNumber(Int64(pid))) }
        return TraceRecovery.Ending(type: .runInterrupted, body: body, status: RunRecord.State.interrupted.rawValue)
    }

    /// The supervisor pid in a `run-<pid>-<start>-...` group name.
    static func supervisorPID(_ name: String) -> Int32? {
        let parts = name.split(separator: "-")
        guard parts.count >= 3, parts[0] == "run" else { return nil }
        return Int32(parts[1])
    }
}

extension Supervisor {
    /// The sandbox groups of dead supervisors and the processes in each (all hierarchies of a v1
    /// layout merged), read before `removeLeftSandboxes` kills them, for the `run.interrupted` records.
    static func leftSandboxes() -> [String: [Int32]] {
        var left: [String: [Int32]] = [:]
        for path in runGroupsOfDeadSupervisors() {
            let name = String(path.split(separator: "/").last ?? "")
            let text = (try? readFile(path + "/cgroup.procs", limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            var pids = left[name] ?? []
            for line in text.split(separator: "\n") { if let pid = Int32(line), !pids.contains(pid) { pids.append(pid) } }
            left[name] = pids.sorted()
        }
        return left
    }
}
