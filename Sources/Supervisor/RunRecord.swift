import Sandbox
import Specs

/// One invocation of a deployed agent, as the state store keeps it and the control API shows it.
public struct RunRecord: Sendable, Equatable {
    /// Where a run is in its life. `queued` and `running` are live; the others are final.
    public enum State: String, Sendable, CaseIterable {
        case queued, running
        /// Exited 0.
        case succeeded
        /// Exited non-zero, or was killed by a signal it caused (seccomp, OOM).
        case failed
        /// Killed at its deadline.
        case timedOut = "timed_out"
        /// Ended by `stop` or `kill` through the control API, or by the supervisor's shutdown.
        case stopped
        /// Its supervisor died while it ran (found at the next start and cleaned up).
        case interrupted
        /// Never started: the sandbox could not be set up, or the run was accepted and then lost.
        case error

        /// True once the run can no longer change.
        public var isFinal: Bool { self != .queued && self != .running }
    }

    public var id: String
    public var agent: String
    public var state: State
    /// The agent's exit code, or the signal that killed it.
    public var exitCode: Int32?
    public var signal: Int32?
    /// The status `warden run` would exit with (128+N for signal N, 124 at the deadline).
    public var exitStatus: Int32?
    public var oomKilled = false
    /// A one-line account of how it ended (or why it never started).
    public var message = ""
    /// Wall-clock nanoseconds since the epoch.
    public var createdNanos: UInt64
    public var startedNanos: UInt64?
    public var endedNanos: UInt64?
    /// The per-invocation deadline in seconds (nil: the spec's timeout).
    public var deadlineSeconds: Double?
    /// Whether the run is recorded in the trace (under the same id: `warden trace verify ID`).
    public var traced = true
    /// The replica slot for a long-lived replica's run (nil for an invocation).
    public var replica: Int?
    /// Output bytes kept per stream, and bytes dropped past the limit.
    public var stdoutBytes = 0, stderrBytes = 0, stdoutDropped = 0, stderrDropped = 0

    public init(id: String, agent: String, createdNanos: UInt64, deadlineSeconds: Double? = nil) {
        self.id = id
        self.agent = agent
        self.state = .queued
        self.createdNanos = createdNanos
        self.deadlineSeconds = deadlineSeconds
    }

    /// Fills the outcome from a finished sandbox run; `stopRequested` marks runs ended through the API.
    mutating func finish(_ report: RunReport, stopRequested: Bool, endedNanos: UInt64) {
        exitCode = report.exitCode
        signal = report.signal
        exitStatus = report.exitStatus
        oomKilled = report.oomKilled
        stdoutBytes = report.stdoutBytes
        stderrBytes = report.stderrBytes
        stdoutDropped = report.stdoutDropped
        stderrDropped = report.stderrDropped
        message = report.summary
        if stopRequested { state = .stopped }
        else if report.succeeded { state = .succeeded }
        else if report.timedOut { state = .timedOut }
        else { state = .failed }
        self.endedNanos = endedNanos
    }

    /// The record as JSON (state store and control API).
    public var json: JSONValue {
        func int<T: BinaryInteger>(_ v: T?) -> JSONValue { v.map { .number(JSONNumber(Int64($0))) } ?? .null }
        return .object(JSONObject([
            ("id", .string(id)), ("agent", .string(agent)), ("state", .string(state.rawValue)),
            ("exit_code", int(exitCode)), ("signal", int(signal)), ("exit_status", int(exitStatus)),
            ("oom_killed", .bool(oomKilled)), ("message", .string(message)),
            ("created_ns", int(createdNanos)), ("started_ns", int(startedNanos)), ("ended_ns", int(endedNanos)),
            ("deadline_seconds", deadlineSeconds.flatMap { JSONNumber($0) }.map { .number($0) } ?? .null),
            ("traced", .bool(traced)), ("replica", int(replica)),
            ("stdout_bytes", int(stdoutBytes)), ("stderr_bytes", int(stderrBytes)),
            ("stdout_dropped", int(stdoutDropped)), ("stderr_dropped", int(stderrDropped)),
        ]))
    }

    /// Reads a record the store wrote; nil for anything that is not one (never trusted further).
    public init?(json value: JSONValue) {
        guard case .object(let o) = value, case .string(let id)? = o["id"], case .string(let agent)? = o["agent"],
              case .string(let stateText)? = o["state"], let state = State(rawValue: stateText),
              let created = Self.uint(o["created_ns"]) else { return nil }
        self.init(id: id, agent: agent, createdNanos: created)
        self.state = state
        exitCode = Self.uint(o["exit_code"]).map { Int32(truncatingIfNeeded: $0) } ?? Self.negative(o["exit_code"])
        signal = Self.uint(o["signal"]).map { Int32(truncatingIfNeeded: $0) }
        exitStatus = Self.uint(o["exit_status"]).map { Int32(truncatingIfNeeded: $0) }
        if case .bool(let flag)? = o["oom_killed"] { oomKilled = flag }
        if case .string(let text)? = o["message"] { message = text }
        startedNanos = Self.uint(o["started_ns"])
        endedNanos = Self.uint(o["ended_ns"])
        if case .number(let n)? = o["deadline_seconds"] { deadlineSeconds = n.double }
        if case .bool(let flag)? = o["traced"] { traced = flag }
        replica = Self.uint(o["replica"]).map { Int($0) }
        stdoutBytes = Int(Self.uint(o["stdout_bytes"]) ?? 0)
        stderrBytes = Int(Self.uint(o["stderr_bytes"]) ?? 0)
        stdoutDropped = Int(Self.uint(o["stdout_dropped"]) ?? 0)
        stderrDropped = Int(Self.uint(o["stderr_dropped"]) ?? 0)
    }

    private static func uint(_ value: JSONValue?) -> UInt64? {
        guard case .number(let n)? = value else { return nil }
        return n.uint64
    }

    private static func negative(_ value: JSONValue?) -> Int32? {
        guard case .number(let n)? = value, let v = n.int64, v >= Int64(Int32.min), v <= Int64(Int32.max) else { return nil }
        return Int32(v)
    }
}
