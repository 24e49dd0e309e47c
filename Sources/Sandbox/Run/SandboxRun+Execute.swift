import Glibc
import HostOS

extension SandboxRun {
    /// Runs `request` to completion: workspace, cgroup, launch, supervision, teardown.
    ///
    /// A failure before the agent runs throws, and leaves no process, cgroup or temporary
    /// workspace behind (the launcher kills and reaps what it started; we undo the rest).
    public static func execute(_ request: Request, settings: Settings = .init()) throws(Error) -> Result {
        let start = Deadline.nowNanos()
        var setup = RunSetup()
        let started: StartedRun
        do throws(Error) {
            started = try setup.start(request, settings: settings)
        } catch {
            setup.undo()
            RunTiming.flush()
            throw error
        }
        RunTiming.mark("launched")
        let launched = Deadline.nowNanos()
        settings.onLaunch?(started.process.listeners.map(\.rawValue))
        if settings.removeOrphanedRuns {
            Cgroups.removeOrphanedRuns(layout: .host)
            RunTiming.mark("orphans_checked")
        }
        let tracer = settings.trace.map { RunTracer(recorder: $0, request: request, started: started) }
        let auditor = startAuditor(request, started, tracer)
        let supervision = RunSupervision(
            process: started.process, group: started.group, stdout: started.stdout, stderr: started.stderr,
            timeoutNanos: request.timeoutNanos ?? settings.timeoutNanos, stop: settings.stop)
        let ending = supervision.run(startedAt: launched)
        auditor?.stop()
        if let pending = started.pendingExec {
            do throws(Error) {
                try RunSetup.settle(pending)
            } catch {
                started.process.closeDescriptors()
                setup.undo()
                RunTiming.flush()
                throw error
            }
        }
        RunTiming.mark("exited")
        let exited = Deadline.nowNanos()
        var report = RunReport()
        report.exitCode = ending.exitCode
        report.signal = ending.signal
        report.timedOut = ending.timedOut
        report.seccompKilled = ending.signal == SIGSYS
        report.cgroupMode = started.group.mode
        report.unenforced = started.group.unenforced
        let usage = started.group.usage()
        RunTiming.mark("usage_read")
        report.oomKilled = usage.oomKills > 0
        report.pidsLimitHit = usage.pidsLimitHits > 0
        report.memoryPeakBytes = usage.memoryPeakBytes
        report.cpuTimeNanos = usage.cpuTimeNanos
        report.stdoutBytes = started.stdout.forwarded
        report.stdoutDropped = started.stdout.dropped
        report.stderrBytes = started.stderr.forwarded
        report.stderrDropped = started.stderr.dropped
        let traceError = tracer?.finish(report)  // synced before the run is reported finished
        started.process.closeDescriptors()
        RunTiming.mark("reported")
        setup.finish()
        RunTiming.mark("cleaned_up")
        RunTiming.flush()
        report.setupNanos = launched - start
        report.runNanos = exited - launched
        report.teardownNanos = Deadline.nowNanos() - exited
        return Result(report: report, stdout: started.stdout.captured, stderr: started.stderr.captured, traceError: traceError)
    }

    /// What `RunSetup.start` hands to supervision.
    struct StartedRun {
        var process: SandboxedProcess
        var group: Cgroups.RunGroup
        /// Set when the launch did not wait for exec (`Settings.confirmExecAtExit`).
        var pendingExec: Launcher.PendingExec?
        var stdout: OutputPump
        var stderr: OutputPump
    }
}

extension Cgroups.Layout {
    /// This host's layout, detected once per process.
    public static let host = Cgroups.Layout.detect()
}
