import HostOS
import Specs

/// A histogram with fixed upper bounds, rendered the Prometheus way (cumulative `le` buckets,
/// `+Inf`, `_sum`, `_count`).
struct Histogram: Sendable {
    let bounds: [Double]
    private(set) var counts: [UInt64]
    private(set) var sum = 0.0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    /// Seconds from 100 µs to 60 s, roughly ×2.5 apart.
    static let latencyBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    mutating func observe(_ value: Double) {
        if let slot = bounds.firstIndex(where: { value <= $0 }) { counts[slot] += 1 }
        sum += value
        count += 1
    }

    func render(_ name: String, into text: inout String) {
        var cumulative: UInt64 = 0
        for (bound, count) in zip(bounds, counts) {
            cumulative += count
            text += "\(name)_bucket{le=\"\(Metrics.format(bound))\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(count)\n"
        text += "\(name)_sum \(Metrics.format(sum))\n"
        text += "\(name)_count \(count)\n"
    }
}

/// The supervisor's counters, gauges and histograms for `GET /metrics` (Prometheus text format
/// 0.0.4). Labels are low-cardinality on purpose: outcomes and reasons from fixed sets, never run
/// ids or agent names (a fleet of agents must not blow up a time-series database).
final class Metrics: @unchecked Sendable {
    private let lock = ConditionLock()
    private var outcomes: [RunRecord.State: UInt64] = [:]
    private var rejected: [String: UInt64] = ["queue_full": 0, "shutting_down": 0]
    private var queueWait = Histogram(bounds: Histogram.latencyBounds)
    private var launch = Histogram(bounds: Histogram.latencyBounds)
    private var duration = Histogram(bounds: Histogram.latencyBounds)
    private var accepted: UInt64 = 0
    private var traceRecords: [String: UInt64] = [:]
    private var toolCalls: [String: UInt64] = [:]
    private var guardrails: [String: UInt64] = [:]
    private var seccompDenials: UInt64 = 0
    private var tokens: [String: UInt64] = ["input": 0, "output": 0]

    /// Label values kept as they are; anything else is counted as "other" (bounded label sets).
    static let recordTypes: Set<String> = ["run.start", "run.end", "process.spawn", "process.exit", "output.chunk", "output.dropped",
                                           "seccomp.denial", "limit.event", "model.request", "tool.call", "guardrail.decision",
                                           "trace.recovered"]
    static let toolDecisions: Set<String> = ["allowed", "denied", "rate_limited", "over_budget"]
    static let verdicts: Set<String> = ["allow", "deny", "modify", "warn", "escalate"]
    private var restarts: UInt64 = 0

    /// Counts what one finished run's trace holds: records by type, tool calls by decision,
    /// guardrail decisions by verdict, seccomp denials, model tokens.
    func observeTrace(_ records: [(type: String, body: JSONObject)]) {
        lock.withLock {
            for (type, body) in records {
                traceRecords[Self.recordTypes.contains(type) ? type : "other", default: 0] += 1
                switch type {
                case "tool.call":
                    let decision = body["decision"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                    toolCalls[Self.toolDecisions.contains(decision) ? decision : "other", default: 0] += 1
                case "guardrail.decision":
                    let verdict = body["verdict"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                    guardrails[Self.verdicts.contains(verdict) ? verdict : "other", default: 0] += 1
                case "seccomp.denial":
                    seccompDenials += 1
                case "model.request":
                    for (key, label) in [("input_tokens", "input"), ("output_tokens", "output")] {
                        if case .number(let n)? = body[key], let count = n.uint64 { tokens[label, default: 0] += count }
                    }
                default:
                    break
                }
            }
        }
    }

    func replicaRestarted() { lock.withLock { restarts += 1 } }
    func invocationAccepted() { lock.withLock { accepted += 1 } }
    func invocationRejected(_ reason: String) { lock.withLock { rejected[reason, default: 0] += 1 } }
    func invocationFinished(_ state: RunRecord.State) { lock.withLock { outcomes[state, default: 0] += 1 } }
    func queueWaited(seconds: Double) { lock.withLock { queueWait.observe(seconds) } }
    func launched(seconds: Double) { lock.withLock { launch.observe(seconds) } }
    func ran(seconds: Double) { lock.withLock { duration.observe(seconds) } }

    /// The exposition text, given the gauges read from the supervisor's state now.
    /// With `openMetrics`, the OpenMetrics 1.0 form: counter families are named without their
    /// `_total` suffix (the samples keep it) and the text ends with `# EOF`.
    func render(agentsDeployed: Int, runsRunning: Int, queueDepth: Int, shuttingDown: Bool, crashLooping: Int,
                openMetrics: Bool = false) -> String {
        lock.withLock {
            var text = ""
            func family(_ name: String, _ type: String, _ help: String) {
                let declared = openMetrics && type == "counter" && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
                text += "# HELP \(declared) \(help)\n# TYPE \(declared) \(type)\n"
            }
            family("warden_agents_deployed", "gauge", "Agents deployed on this supervisor.")
            text += "warden_agents_deployed \(agentsDeployed)\n"
            family("warden_runs_running", "gauge", "Agent runs (sandboxes) running now: invocations and replicas.")
            text += "warden_runs_running \(runsRunning)\n"
            family("warden_queue_depth", "gauge", "Invocations accepted and waiting for a free slot, over all agents.")
            text += "warden_queue_depth \(queueDepth)\n"
            family("warden_shutting_down", "gauge", "1 while the supervisor drains before exiting.")
            text += "warden_shutting_down \(shuttingDown ? 1 : 0)\n"
            family("warden_replica_restarts_total", "counter", "Long-lived replicas restarted by their restart policy.")
            text += "warden_replica_restarts_total \(restarts)\n"
            family("warden_replicas_crash_looping", "gauge", "Replicas given up after too many restarts in the crash-loop window.")
            text += "warden_replicas_crash_looping \(crashLooping)\n"
            family("warden_invocations_accepted_total", "counter", "Invocations accepted into a queue.")
            text += "warden_invocations_accepted_total \(accepted)\n"
            family("warden_invocations_total", "counter", "Finished invocations by outcome.")
            for state in RunRecord.State.allCases where state.isFinal {
                text += "warden_invocations_total{outcome=\"\(state.rawValue)\"} \(outcomes[state] ?? 0)\n"
            }
            family("warden_invocations_rejected_total", "counter", "Invocations refused by reason.")
            for (reason, count) in rejected.sorted(by: { $0.key < $1.key }) {
                text += "warden_invocations_rejected_total{reason=\"\(reason)\"} \(count)\n"
            }
            family("warden_trace_records_total", "counter", "Trace records written by finished runs, by record type.")
            for type in (Self.recordTypes.union(["other"])).sorted() {
                text += "warden_trace_records_total{type=\"\(type)\"} \(traceRecords[type] ?? 0)\n"
            }
            family("warden_tool_calls_total", "counter", "Broker tool calls of finished runs, by policy decision.")
            for decision in (Self.toolDecisions.union(["other"])).sorted() {
                text += "warden_tool_calls_total{decision=\"\(decision)\"} \(toolCalls[decision] ?? 0)\n"
            }
            family("warden_guardrail_decisions_total", "counter", "Guardrail decisions of finished runs, by verdict.")
            for verdict in (Self.verdicts.union(["other"])).sorted() {
                text += "warden_guardrail_decisions_total{verdict=\"\(verdict)\"} \(guardrails[verdict] ?? 0)\n"
            }
            family("warden_seccomp_denials_total", "counter", "Syscalls denied by seccomp (audited) in finished runs.")
            text += "warden_seccomp_denials_total \(seccompDenials)\n"
            family("warden_model_tokens_total", "counter", "Model tokens of finished runs' model requests, by direction.")
            for direction in ["input", "output"] {
                text += "warden_model_tokens_total{direction=\"\(direction)\"} \(tokens[direction] ?? 0)\n"
            }
            family("warden_queue_wait_seconds", "histogram", "Time from acceptance to the start of the sandbox launch.")
            queueWait.render("warden_queue_wait_seconds", into: &text)
            family("warden_launch_latency_seconds", "histogram", "Sandbox setup time: from the launch request to the agent running.")
            launch.render("warden_launch_latency_seconds", into: &text)
            family("warden_run_duration_seconds", "histogram", "Agent run time from launch to exit.")
            duration.render("warden_run_duration_seconds", into: &text)
            Self.renderTraceStore(family: family, emit: { text += $0 })
            if openMetrics { text += "# EOF\n" }
            return text
        }
    }

    /// A number as Prometheus writes it (no exponent for ordinary values, integers without ".0").
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
