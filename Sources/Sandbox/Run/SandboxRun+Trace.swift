import Glibc
import TraceStore

/// Records one SandboxRun in the execution trace: the process spawn, its output (bounded by the
/// recorder), limit events, the exit with its flags and usage, and the run end, synced before the
/// run is reported finished. If the trace cannot record (a durability failure under fail-closed),
/// the agent is killed at once rather than left running unaudited, and the error is returned.
final class RunTracer {
    let recorder: TraceRecorder
    let process: SandboxedProcess
    let group: Cgroups.RunGroup
    private(set) var span: SpanID?
    private(set) var error: TraceError?

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
    private func record(_ step: () throws(TraceError) -> Void) {
        guard error == nil else { return }
        do { try step() } catch {
            self.error = error
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
        do { try recorder.finish(end) } catch { if self.error == nil { self.error = error } }
        return self.error
    }
}
