import Broker
import Glibc
import HostOS
import Sandbox
import Specs
import TraceStore

extension Supervisor {
    /// Runs one invocation in a fresh sandbox on the calling (dedicated) thread, the way `warden run`
    /// runs a spec: the same request from the spec, the same trace records, the same broker; the
    /// input on stdin, stdout and stderr into the run's log files (bounded), and the outcome stored.
    func execute(_ queued: RunRecord, spec: AgentSpec, agent: DeployedAgent, live liveRun: LiveRun) {
        let record = runToEnd(queued, spec: spec, live: liveRun)
        lock.withLock {
            runs[record.id] = record
            live[record.id] = nil
            // The slot belongs to the deployment that started the run, even if the agent has since
            // been removed (and perhaps deployed again under the same name).
            agent.running -= 1
            executing -= 1
            lock.broadcast()
            if agents[record.agent] === agent { dispatchLocked(record.agent) }
        }
        observeTrace(of: record)
        applyRetention()
    }

    /// Feeds the metrics from a finished run's trace (after its caller has been answered).
    func observeTrace(of record: RunRecord) {
        guard record.traced, let scan = try? traceDirectory.readRun(record.id) else { return }
        metrics.observeTrace(scan.records.map { ($0.record.type.rawValue, $0.record.body) })
    }

    /// Runs the sandbox and stores the outcome; returns the final record.
    func runToEnd(_ queued: RunRecord, spec: AgentSpec, live liveRun: LiveRun) -> RunRecord {
        // The record stays `queued` on disk while it runs (one fsync less per invocation): the log
        // files made before the launch tell recovery that it had started (StateStore.hasStarted).
        var record = queued
        let outcome = launch(&record, spec: spec, live: liveRun)
        record.endedNanos = wallNow()
        if let outcome { record.finish(outcome.report, stopRequested: lock.withLock { liveRun.stopRequested }, endedNanos: record.endedNanos ?? 0) }
        if let outcome { metrics.ran(seconds: Double(outcome.report.runNanos) / 1e9) }
        if let traceError = outcome?.traceError {
            record.state = .error
            record.message = "the trace could not record the run, so it was stopped: \(traceError)"
        }
        try? store.saveRun(record)
        metrics.invocationFinished(record.state)
        return record
    }

    /// Sets up and runs the sandbox; nil (with the record marked `error`) when it never started.
    private func launch(_ record: inout RunRecord, spec: AgentSpec, live liveRun: LiveRun) -> SandboxRun.Result? {
        var settings = SandboxRun.Settings(outputLimit: config.outputLimitBytes)
        // As `warden run` does: each launch also sweeps the groups of dead supervisors (off the
        // launch path), which catches any a start-up recovery could not remove yet.
        settings.removeOrphanedRuns = true
        // Named here (the Sandbox target's own naming, which its orphan scan relies on) so that
        // `stop` can signal the sandbox's processes through their cgroup.
        let groupName = Cgroups.RunGroup.nextName()
        settings.runName = groupName
        lock.withLock { liveRun.cgroupName = groupName }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        do throws(SupervisorError) { try prepareOutputs(record.id, liveRun, &settings, &opened) } catch {
            fail(&record, error.message)
            return nil
        }
        do throws(SandboxRun.Error) {
            var request = try SandboxRun.Request.agent(spec, workspace: nil)
            // A per-invocation deadline may only tighten the spec's (and policy's) wall-clock limit.
            if let seconds = record.deadlineSeconds { request.timeoutNanos = min(UInt64(seconds * 1e9), request.timeoutNanos ?? .max) }
            let inputCopy = lock.withLock { liveRun.input }
            if let replicaIO = liveRun.replicaIO {
                request.standardInput = FileDescriptor(rawValue: replicaIO.stdinReader)
            } else {
                request.standardInput = try inputDescriptor(inputCopy)
            }
            lock.withLock { liveRun.input = [] }
            if record.traced {
                do {
                    let recorder = try startTrace(record.id, spec: spec, audited: request.auditedSyscalls.map(\.name))
                    settings.trace = recorder
                    lock.withLock { liveRun.recorder = recorder }
                    if liveRun.replicaIO == nil { try recordInput(inputCopy, in: recorder) }
                } catch {
                    fail(&record, "cannot start the trace: \(error)")
                    closeTrace(settings.trace, record)
                    try? request.standardInput?.close()   // the run never took it
                    return nil
                }
            }
            let result = try withBroker(spec, &record, &request, &settings) { (request, settings) throws(SandboxRun.Error) in
                let result = try SandboxRun.execute(request, settings: settings)
                metrics.launched(seconds: Double(result.report.setupNanos) / 1e9)
                return result
            }
            if result == nil {
                closeTrace(settings.trace, record)
                try? request.standardInput?.close()   // the broker failed: the run never took it
            }
            return result
        } catch {
            fail(&record, error.description)
            record.exitStatus = error.code == .exec ? (error.errno == ENOENT ? 127 : 126) : error.code == .configuration ? 2 : 1
            closeTrace(settings.trace, record)
            return nil
        }
    }

    /// Records the invocation's input in its trace before the agent starts: its length and SHA-256,
    /// and its first 64 KiB (text when UTF-8, else base64), so an audit sees what the agent was given.
    func recordInput(_ input: [UInt8], in recorder: TraceRecorder, invocation: String? = nil) throws(TraceError) {
        let kept = Array(input.prefix(64 << 10))
        var body = JSONObject([("length", .number(JSONNumber(input.count))),
                               ("sha256", .string(SHA256Digest(hashing: input).hex)),
                               ("truncated", .bool(kept.count < input.count))])
        if let invocation { body["invocation"] = .string(invocation) }
        if let text = String(validating: kept, as: UTF8.self) { body["text"] = .string(text) } else {
            body["base64"] = .string(Base64Text.encode(kept))
        }
        _ = try recorder.append(Self.inputRecord, span: recorder.runSpan, parent: nil, body: body)
    }

    /// The trace record type of an invocation's input (a supervisor record; readers that do not
    /// know it skip it, and the chain covers it like any other).
    static let inputRecord = RecordType("invocation.input")

    /// Ends the trace of a run that never started (a live daemon must not leave it open).
    private func closeTrace(_ trace: TraceRecorder?, _ record: RunRecord) {
        _ = try? trace?.finish(RunEnd(status: "error", exitCode: nil, reason: record.message))
    }

    /// The run's log files as its stdout and stderr (or a serving replica's pipes), and its stop pipe.
    private func prepareOutputs(_ id: String, _ liveRun: LiveRun, _ settings: inout SandboxRun.Settings,
                                _ opened: inout [Int32]) throws(SupervisorError) {
        for stream in ["stdout", "stderr"] {
            let path = store.logPath(id, stream: stream)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .system("cannot create", path) }
            opened.append(fd)
        }
        settings.stdout = .descriptor(opened[0])
        settings.stderr = .descriptor(opened[1])
        if let replicaIO = liveRun.replicaIO {
            // A serving replica: stdout goes to the supervisor's reader (answers, copied to the
            // log there), unbounded because a replica lives long; stdin comes from its feeder.
            settings.stdout = .descriptor(replicaIO.stdoutWriter)
            settings.outputLimit = .max
        }
        let stop = try stopPipe(for: liveRun)
        opened.append(stop)
        settings.stop = stop
    }

    /// Runs `body` with the spec's broker (and MCP servers) started when it has a `broker`
    /// section, exactly as `warden run` does; nil (record marked) if the broker cannot start.
    private func withBroker(_ spec: AgentSpec, _ record: inout RunRecord, _ request: inout SandboxRun.Request,
                            _ settings: inout SandboxRun.Settings,
                            _ body: (SandboxRun.Request, SandboxRun.Settings) throws(SandboxRun.Error) -> SandboxRun.Result)
        throws(SandboxRun.Error) -> SandboxRun.Result? {
        var broker = spec.broker.map { RunBroker(policy: $0, workspace: nil, spec: spec, models: models) }
        let temporaryWorkspace = try broker?.hostWorkspace(for: &request)
        defer { try? temporaryWorkspace?.remove() }
        var brokerRun: (broker: BrokerRun, tools: MCPRunTools)?
        if let broker {
            do { brokerRun = try broker.start(runID: record.id, trace: settings.trace) } catch {
                fail(&record, "cannot start the broker: \(error)")
                return nil
            }
            brokerRun?.broker.attach(&request, &settings)
        }
        defer { brokerRun?.tools.stop(); brokerRun?.broker.stop() }
        return try body(request, settings)
    }

    /// Marks a run that never started.
    private func fail(_ record: inout RunRecord, _ message: String) {
        record.state = .error
        record.message = message
        record.exitStatus = 1
    }

    /// The run's stop pipe: the read end goes to the run (readable or hung up: kill the tree), the
    /// write end to the live run, closed by `stop` (or at once if a stop came first).
    private func stopPipe(for liveRun: LiveRun) throws(SupervisorError) -> Int32 {
        let ends: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do throws(Errno) { ends = try FileDescriptor.pipe() } catch {
            throw SupervisorError(.io, "cannot create a stop pipe: \(error)")
        }
        lock.withLock {
            if liveRun.stopRequested { close(ends.writeEnd.rawValue) } else { liveRun.stopWriter = ends.writeEnd.rawValue }
        }
        return ends.readEnd.rawValue
    }

    /// The input as a memfd at offset 0: the agent reads it at its own pace, nobody has to feed a pipe.
    private func inputDescriptor(_ input: [UInt8]) throws(SandboxRun.Error) -> FileDescriptor {
        do throws(Errno) {
            let fd = try FileDescriptor.memfd(name: "warden-input")
            try fd.writeAll(input)
            lseek(fd.rawValue, 0, SEEK_SET)
            return fd
        } catch {
            throw SandboxRun.Error(.launch, "cannot hold the input: \(error)")
        }
    }

    /// Opens the run's trace under the run's own id, as `warden run` does.
    private func startTrace(_ id: String, spec: AgentSpec, audited: [String]) throws(TraceError) -> TraceRecorder {
        var start = RunStart.make(runID: id, agentName: spec.name, spec: try RunStart.snapshot(path: spec.file),
                                  policy: try RunStart.snapshot(path: spec.policyPath), wardenVersion: wardenVersion)
        start.auditedSyscalls = audited
        return try TraceRecorder.start(start, directory: traceDirectory)
    }
}

/// The version recorded in traces (kept equal to `warden --version`).
public let wardenVersion = "0.1.0"
