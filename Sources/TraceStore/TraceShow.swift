import Specs

/// Renders a run's records for people (a tree with timings) or machines (JSON).
public enum TraceShow {
    /// The run as a tree: run > processes and calls > denials, limits, output; times relative to the start.
    public static func text(records: [TraceRecord]) -> String {
        guard let start = records.first else { return "(empty trace)\n" }
        var out = header(start, end: records.last(where: { $0.type == .runEnd || $0.type == .runInterrupted }))
        var depth: [SpanID: Int] = [start.span: 0]
        var output: [SpanID: [String: UInt64]] = [:]
        for record in records.dropFirst() {
            // A span's own start and end lines sit at its depth; what happens inside it one deeper.
            let spanLevel: Int
            if let known = depth[record.span] { spanLevel = known } else {
                spanLevel = (record.parent.flatMap { depth[$0] } ?? 0) + 1
                depth[record.span] = spanLevel
            }
            let opensOrCloses: Set<RecordType> = [.processSpawn, .processExit, .toolCall, .modelRequest]
            let level = opensOrCloses.contains(record.type) ? spanLevel : spanLevel + 1
            if record.type == .outputChunk {
                output[record.span, default: [:]][record.body.string("stream") ?? "?", default: 0] += record.body.uint("length") ?? 0
                continue
            }
            let indent = String(repeating: "  ", count: level)
            out += indent + "+" + milliseconds(record.timestamp, since: start.timestamp) + "  " + line(record, output: output[record.span], start: start.timestamp) + "\n"
        }
        return out
    }

    static func header(_ start: TraceRecord, end: TraceRecord?) -> String {
        let body = start.body
        var text = "run \(body.string("run") ?? "?")  agent \(body.string("agent") ?? "?")"
        if let end, end.type == .runInterrupted {
            text += "  interrupted (supervisor crash)  " + milliseconds(end.timestamp, since: start.timestamp)
        } else if let end {
            text += "  \(end.body.string("status") ?? "?")"
            if let code = end.body.int("exit_code") { text += " (exit \(code))" }
            text += "  " + milliseconds(end.timestamp, since: start.timestamp)
        } else {
            text += "  (not finished)"
        }
        text += "\n  trace \(body.string("trace_id") ?? "?")  warden \(body.string("warden_version") ?? "?")\n"
        text += "  spec sha256 \(body.string("spec_sha256") ?? "?")\n  policy sha256 \(body.string("policy_sha256") ?? "?")\n"
        return text
    }

    static func line(_ record: TraceRecord, output: [String: UInt64]?, start: UInt64 = 0) -> String {
        let b = record.body
        switch record.type {
        case .processSpawn:
            let argv: [String] = { if case .array(let a)? = b["argv"] { return a.compactMap { if case .string(let s) = $0 { return s }; return nil } }; return [] }()
            return "process \(b.int("pid") ?? 0) spawned: \(argv.joined(separator: " "))"
        case .processExit:
            var text = "process \(b.int("pid") ?? 0) exited: " + (b.int("exit_code").map { "exit \($0)" } ?? "signal \(b.int("signal") ?? 0)")
            for flag in ["oom_killed", "pids_limit_hit", "timed_out", "seccomp_killed"] where b.bool(flag) { text += ", " + flag }
            if let peak = b.uint("peak_memory_bytes") { text += ", peak \(peak / 1024) KiB" }
            if let output { text += ", output " + output.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) B" }.joined(separator: " ") }
            return text
        case .seccompDenial:
            return "DENIED syscall \(b.string("syscall") ?? "?") (nr \(b.int("nr") ?? -1)) by pid \(b.int("pid") ?? 0) -> errno \(b.int("errno") ?? 0)"
        case .limitEvent:
            return "LIMIT \(b.string("limit") ?? "?") \(b.string("action") ?? "?") \(b.string("detail") ?? "")"
        case .outputDropped:
            return "output \(b.string("stream") ?? "?"): \(b.uint("dropped_bytes") ?? 0) bytes dropped past the \(b.uint("limit_bytes") ?? 0)-byte bound"
        case .modelRequest:
            return "\(b.string("operation") ?? "chat") \(b.string("model") ?? "") via \(b.string("provider") ?? "")"
                + " (\(b.int("input_tokens") ?? 0) in / \(b.int("output_tokens") ?? 0) out) " + duration(b)
        case .toolCall:
            return "execute_tool \(b.string("tool") ?? "") \(b.string("decision") ?? "") " + duration(b)
        case .guardrailDecision:
            return "guardrail \(b.string("guardrail") ?? ""): verdict \(b.string("verdict") ?? ""), action \(b.string("action") ?? "")"
        case .runEnd:
            return "run ended: \(b.string("status") ?? "")" + (b.string("reason").map { $0.isEmpty ? "" : " (\($0))" } ?? "")
        case .runInterrupted:
            var killed: [String] = []
            if case .array(let groups)? = b["killed"] {
                for case .object(let group) in groups {
                    let pids: [String] = { if case .array(let a)? = group["pids"] { return a.map { JSONWriter.compact($0) } }; return [] }()
                    let what = !group.bool("found") ? "already gone" : pids.isEmpty ? "no process left in it" : "pids " + pids.joined(separator: " ")
                    let end = !group.bool("found") ? "" : group.bool("removed") ? ", removed" : ", still there"
                    killed.append("\(group.string("cgroup") ?? "?") (\(what)\(end))")
                }
            }
            return "INTERRUPTED: the supervisor died while the run was running; supervisor \(b.int("supervisor_pid") ?? 0) noticed at +"
                + milliseconds(b.uint("noticed_ns") ?? 0, since: start) + "; "
                + (killed.isEmpty ? "no sandbox group recorded" : "sandbox group " + killed.joined(separator: ", "))
        case .traceRecovered:
            return "RECOVERED after a crash: \(b.uint("cut_bytes") ?? 0) torn bytes cut, kept in \(b.string("torn_file") ?? "-")"
        default:
            return record.type.rawValue + " " + JSONWriter.compact(.object(b))
        }
    }

    static func duration(_ body: JSONObject) -> String {
        guard let start = body.uint("start_ns"), let end = body.uint("end_ns"), end >= start else { return "" }
        return milliseconds(end, since: start)
    }

    /// `12.345 ms` from nanoseconds.
    static func milliseconds(_ time: UInt64, since start: UInt64) -> String {
        let delta = time >= start ? time - start : 0
        let micros = delta / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }

    /// Every record as JSON, in order: `{"run": ..., "records": [{seq, ts, type, span, parent, body}, ...]}`.
    public static func json(runID: String, records: [TraceRecord]) -> JSONValue {
        .object(JSONObject([
            ("run", .string(runID)),
            ("records", .array(records.map { record in
                .object(JSONObject([
                    ("seq", .number(JSONNumber(record.seq))), ("ts", .number(JSONNumber(record.timestamp))),
                    ("type", .string(record.type.rawValue)), ("span", .string(record.span.hex)),
                    ("parent", record.parent.map { .string($0.hex) } ?? .null), ("body", .object(record.body)),
                ]))
            })),
        ]))
    }
}
