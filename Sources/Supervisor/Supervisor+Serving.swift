import Glibc
import HostOS
import Specs
import TraceStore

/// Serving replicas: long-lived sandboxes that take an agent's invocations from its queue.
///
/// The protocol is JSON lines on stdio. The supervisor writes one line per invocation to the
/// replica's stdin, `{"id": RUN, "input": TEXT}` (`"input_base64"` for input that is not UTF-8),
/// and the replica answers with one line on stdout, `{"id": RUN, "output": TEXT, "status": N}`
/// (`status` 0 when absent). Anything else it prints goes to its own log. One invocation at a
/// time per replica; a replica past an invocation's deadline is killed (and restarted by its
/// policy), as is one that exits mid-invocation, and the invocation fails.
///
/// Scaling: while invocations wait and no replica is idle, one more is started (up to
/// `maxReplicas`, one starting at a time); a replica added that way is retired after
/// `idleSeconds` without work, down to the agent's `replicas`.
extension Supervisor {
    /// The supervisor's ends of a serving replica's pipes and its log.
    struct ServingIO {
        var stdoutReader: Int32
        var stdoutWriter: Int32
        var log: Int32
    }

    /// Makes the pipes, hands the sandbox's ends to the run, and starts the reader and the feeder.
    func startServing(_ slot: ReplicaSlot, of agent: DeployedAgent, run runID: String, live liveRun: LiveRun) -> ServingIO? {
        guard let stdin = try? FileDescriptor.pipe(), let stdout = try? FileDescriptor.pipe() else { return nil }
        let logPath = store.logPath(runID, stream: "stdout") + ".replica"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        let io = ServingIO(stdoutReader: stdout.readEnd.rawValue, stdoutWriter: stdout.writeEnd.rawValue, log: log)
        lock.withLock {
            liveRun.replicaIO = (stdin.readEnd.rawValue, stdout.writeEnd.rawValue)
            slot.stdinWriter = stdin.writeEnd.rawValue
            slot.idleSince = monotonicNow()
            dispatchLocked(agent.record.name)
        }
        startDetachedThread { [self] in readAnswers(io, slot, of: agent) }
        startDetachedThread { [self] in feed(slot, of: agent, run: runID) }
        return io
    }

    /// After the replica's sandbox has ended: its stdin is closed, an invocation it was serving fails.
    func stopServing(_ slot: ReplicaSlot, of agent: DeployedAgent, _ io: ServingIO) {
        close(io.stdoutWriter)   // the reader sees end of file once the sandbox's copy is gone too
        let orphan: String? = lock.withLock {
            if slot.stdinWriter >= 0 { close(slot.stdinWriter) }
            slot.stdinWriter = -1
            defer { slot.serving = nil; slot.outbox = nil; lock.broadcast() }
            return slot.serving
        }
        if let orphan { finishServed(orphan, slot: nil, of: agent, state: .failed, status: nil, output: [], message: "the replica ended while serving this invocation") }
    }

    /// Hands queued invocations to idle replicas, and scales up while they wait (lock held).
    func dispatchToReplicasLocked(_ agent: DeployedAgent) {
        while !agent.pending.isEmpty, let slot = agent.replicas.first(where: \.isIdle) {
            let id = agent.pending.removeFirst()
            guard let liveRun = live[id], var record = runs[id] else { continue }
            record.state = .running
            record.startedNanos = wallNow()
            record.replica = slot.index
            record.traced = false   // recorded in the replica's trace (its output); the run id says which line
            runs[id] = record
            metrics.queueWaited(seconds: Double(monotonicNow() - liveRun.acceptedAt) / 1e9)
            slot.serving = id
            slot.outbox = Self.requestLine(id, liveRun.input)
            slot.outboxInput = liveRun.input
            let limit = record.deadlineSeconds.map { UInt64($0 * 1e9) } ?? UInt64(agent.spec.limits.wallMilliseconds) * 1_000_000
            slot.servingDeadline = monotonicNow() &+ limit
            liveRun.input = []
            lock.broadcast()
        }
        let active = agent.replicas.filter(\.isActive)
        let starting = active.contains { $0.stdinWriter < 0 && $0.live != nil }
        if !agent.pending.isEmpty, !starting, active.count < agent.record.maxReplicas, !shuttingDown {
            addReplicaLocked(agent, scaled: true)
        }
    }

    /// The feeder: writes each invocation's line to the replica's stdin; enforces deadlines and
    /// retires an idle scaled-up replica.
    private func feed(_ slot: ReplicaSlot, of agent: DeployedAgent, run runID: String) {
        while true {
            let work: (line: [UInt8], fd: Int32, input: [UInt8], id: String?, recorder: TraceRecorder?)? = lock.withLock {
                // A feeder serves one replica run: after a restart, the new run has its own.
                while slot.stdinWriter >= 0 && slot.outbox == nil && slot.runID == runID {
                    let now = monotonicNow()
                    let idleEnd = slot.idleSince &+ UInt64(agent.record.idleSeconds * 1e9)
                    let retirable = slot.serving == nil && slot.scaled && !slot.stopped && agent.pending.isEmpty
                    if let serving = slot.serving, now >= slot.servingDeadline {
                        timeOut(serving, slot, runID)
                    } else if retirable && now >= idleEnd {
                        slot.stopped = true   // retired: no restart; its sandbox is ended
                        killReplicaRunLocked(runID)
                    }
                    var wake = now + 1_000_000_000
                    if slot.serving != nil { wake = min(wake, slot.servingDeadline) } else if retirable { wake = min(wake, idleEnd) }
                    lock.wait(untilMonotonic: wake)
                }
                guard slot.stdinWriter >= 0, slot.runID == runID, let line = slot.outbox else { return nil }
                slot.outbox = nil
                defer { slot.outboxInput = [] }
                return (line, slot.stdinWriter, slot.outboxInput, slot.serving, slot.live?.recorder)
            }
            guard let work else { return }
            // The replica's trace gets each input (its answers are recorded as its output).
            if let recorder = work.recorder { try? recordInput(work.input, in: recorder, invocation: work.id) }
            // Off the lock: a replica slow to read must not stall the supervisor. EPIPE (it died) is
            // handled when its run ends.
            try? FileDescriptor(rawValue: work.fd).writeAll(work.line)
        }
    }

    /// The invocation has run out of time: it ends `timed_out` and the replica is killed (lock held).
    private func timeOut(_ id: String, _ slot: ReplicaSlot, _ replicaRun: String) {
        slot.serving = nil
        killReplicaRunLocked(replicaRun)
        let agent = agents.values.first { $0.replicas.contains { $0 === slot } }
        startDetachedThread { [self] in
            finishServed(id, slot: nil, of: agent, state: .timedOut, status: 124, output: [],
                         message: "no answer from the replica within the deadline; the replica was killed")
        }
    }

    /// Kills a replica's sandbox through its stop pipe (lock held).
    func killReplicaRunLocked(_ runID: String) {
        guard let liveRun = live[runID] else { return }
        if liveRun.stopWriter >= 0 { close(liveRun.stopWriter) }
        liveRun.stopWriter = -1
    }

    /// The reader: copies the replica's stdout to its log and completes invocations from answer lines.
    private func readAnswers(_ io: ServingIO, _ slot: ReplicaSlot, of agent: DeployedAgent) {
        defer { close(io.stdoutReader); if io.log >= 0 { close(io.log) } }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(io.stdoutReader, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            if io.log >= 0 { _ = buffer.withUnsafeBytes { write(io.log, $0.baseAddress, n) } }
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                answer(line, slot, of: agent)
            }
            if pending.count > 16 << 20 { pending.removeAll() }   // a line that long is no answer
        }
    }

    /// One stdout line: an answer to the invocation being served, or just output.
    private func answer(_ line: [UInt8], _ slot: ReplicaSlot, of agent: DeployedAgent) {
        guard case .object(let object)? = try? JSONParser.parse(line), case .string(let id)? = object["id"] else { return }
        let matches = lock.withLock { () -> Bool in
            guard slot.serving == id else { return false }
            slot.serving = nil
            slot.idleSince = monotonicNow()
            return true
        }
        guard matches else { return }
        var status: Int32 = 0
        if case .number(let n)? = object["status"], let value = n.int64, value >= 0, value <= 255 { status = Int32(value) }
        var output: [UInt8] = []
        if case .string(let text)? = object["output"] { output = Array(text.utf8) }
        finishServed(id, slot: slot, of: agent, state: status == 0 ? .succeeded : .failed, status: status, output: output,
                     message: status == 0 ? "answered by replica \(slot.index)" : "replica \(slot.index) answered with status \(status)")
    }

    /// Stores a served invocation's end and output, and hands the replica its next one.
    func finishServed(_ id: String, slot: ReplicaSlot?, of agent: DeployedAgent?, state: RunRecord.State, status: Int32?,
                      output: [UInt8], message: String) {
        let path = store.logPath(id, stream: "stdout")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd >= 0 { try? FileDescriptor(rawValue: fd).writeAll(output); close(fd) }
        let record: RunRecord? = lock.withLock {
            guard var record = runs[id], !record.state.isFinal else { return nil }
            record.state = state
            record.exitCode = status
            record.exitStatus = status ?? 1
            record.stdoutBytes = output.count
            record.message = message
            record.endedNanos = wallNow()
            return record
        }
        guard var record else { return }
        if lock.withLock({ live[id]?.stopRequested ?? false }) { record.state = .stopped }
        try? store.saveRun(record)
        metrics.invocationFinished(record.state)
        lock.withLock {
            runs[id] = record
            live[id] = nil
            lock.broadcast()
            if let agent, agents[agent.record.name] === agent { dispatchLocked(agent.record.name) }
        }
        applyRetention()
    }

    /// `{"id": ID, "input": TEXT}` (or `input_base64`) and a newline.
    static func requestLine(_ id: String, _ input: [UInt8]) -> [UInt8] {
        var object = JSONObject([("id", .string(id))])
        if let text = String(validating: input, as: UTF8.self) { object["input"] = .string(text) } else {
            object["input_base64"] = .string(Base64Text.encode(input))
        }
        return JSONWriter.compactBytes(.object(object)) + [0x0A]
    }
}
