import Glibc
import Synchronization
import TraceStore

/// Records one SandboxRun in the execution trace: the process spawn, its output (bounded by the
/// recorder), limit events, the exit with its flags and usage, and the run end, synced before the
/// run is reported finished. If the trace cannot record (a durability failure under fail-closed),
/// the agent is killed at once rather than left running unaudited, and the error is returned.
final class RunTracer: @unchecked Sendable {
    let recorder: TraceRecorder
    let process: SandboxedProcess
    let group: Cgroups.RunGroup
    private(set) var span: SpanID?
    /// The first recording failure; the auditor thread records too, hence the mutex.
    private let failure = Mutex<TraceError?>(nil)
    var error: TraceError? { failure.withLock { $0 } }

    init(recorder: TraceRecorder, request: SandboxRun.Request, started: SandboxRun.StartedRun) {
        self.recorder = recorder
        process = started.process
        group = started.group
        record { () throws(TraceError) in
            span = try recorder.processSpawned(ProcessSpawn(pid: process.pid, executable: request.executable,
                                                            argv: request.arguments, cgroup: group.name))
        }
        started.stdout.tap = { [unowned self] bytes in output(.stdout, bytes) }
        started.stderr.tap = { [unowned self] bytes in output(.stderr, bytes) }
    }

    private func output(_ stream: TraceStore.OutputStream, _ bytes: UnsafeRawBufferPointer) {
        guard let span, error == nil else { return }
        record { () throws(TraceError) in try recorder.output(stream, bytes, span: span) }
    }

    /// Runs one recording step; the first failure stops the agent (fail-closed) and is kept.
    fileprivate func record(_ step: () throws(TraceError) -> Void) {
        guard error == nil else { return }
        do { try step() } catch {
            let first = failure.withLock { current -> Bool in
                if current != nil { return false }
                current = error
                return true
            }
            guard first else { return }
            try? process.kill(SIGKILL)
            try? group.kill(timeoutMs: 2000)
        }
    }

    /// Records limits hit, the exit and `run.end`, syncs and closes the run; returns the first trace error.
    func finish(_ report: RunReport) -> TraceError? {
        let span = self.span ?? recorder.runSpan
        if report.timedOut { record { () throws(TraceError) in try recorder.limitReached(LimitEvent(limit: "wall_time", action: "killed", detail: "wall-clock timeout"), span: span) } }
        if report.oomKilled { record { () throws(TraceError) in try recorder.limitReached(LimitEvent(limit: "memory", action: "killed", detail: "cgroup OOM kill"), span: span) } }
        if report.pidsLimitHit { record { () throws(TraceError) in try recorder.limitReached(LimitEvent(limit: "pids", action: "refused", detail: "fork refused at pids.max"), span: span) } }
        var exit = ProcessExit(pid: process.pid, exitCode: report.exitCode, signal: report.signal)
        exit.oomKilled = report.oomKilled
        exit.pidsLimitHit = report.pidsLimitHit
        exit.timedOut = report.timedOut
        exit.seccompKilled = report.seccompKilled
        exit.peakMemoryBytes = report.memoryPeakBytes
        exit.cgroupCPUNanoseconds = report.cpuTimeNanos
        record { () throws(TraceError) in try recorder.processExited(exit, span: span) }
        let status = report.succeeded ? "ok" : report.timedOut ? "timed_out" : report.signal != nil ? "killed" : "failed"
        let end = RunEnd(status: error == nil ? status : "trace_failed", exitCode: report.exitCode, signal: report.signal,
                         reason: error.map { "trace: \($0)" } ?? report.summary, notEnforced: report.unenforced)
        do { try recorder.finish(end) } catch { failure.withLock { if $0 == nil { $0 = error } } }
        return self.error
    }
}

extension SandboxRun {
    /// Starts answering audited syscalls when the filter has any (nil otherwise). Without a
    /// listener the kernel would fail them with ENOSYS; the auditor answers with the policy's errno.
    static func startAuditor(_ request: Request, _ started: StartedRun, _ tracer: RunTracer?) -> SeccompAuditor? {
        guard !request.auditedSyscalls.isEmpty, let listener = started.process.seccompListener else { return nil }
        let audited = request.auditedSyscalls.map { (name: $0.name, number: $0.number, errno: $0.errno) }
        return try? SeccompAuditor(listener: listener.rawValue, audited: audited) { denial in
            tracer?.denied(denial)
        }
    }
}

extension RunTracer {
    /// An audited syscall was refused: recorded (and synced at once) before the agent gets its errno.
    func denied(_ denial: SeccompAuditor.Denial) {
        let span = self.span ?? recorder.runSpan
        record { () throws(TraceError) in
            try recorder.seccompDenied(SeccompDenial(pid: denial.pid, syscall: denial.name, number: denial.number,
                                                     arguments: denial.arguments, errno: denial.errno,
                                                     architecture: denial.architecture == 0xC000_003E ? "x86_64" : "arch_\(denial.architecture)"),
                                       span: span)
        }
    }
}
