import Synchronization
import Dispatch
import Glibc
import Supervisor

/// `warden serve`: the supervisor as a foreground daemon.
enum ServeCommand: WardenCommand {
    static let name = "serve"
    static let summary = "Runs the supervisor daemon (control API on a unix socket)."
    static let usage = """
        usage: warden serve [--config FILE] [--socket PATH] [--grace SECONDS]

        Runs the supervisor in the foreground: deployed agents, invocations in fresh sandboxes,
        the control API (HTTP/JSON) on a unix socket of mode 0660, /metrics. Its state (deployed
        agents, runs, accepted inputs) is kept crash-safe in the state directory; after a crash the
        next start kills the sandboxes left behind, closes their traces and marks their runs
        interrupted, and runs the invocations that were accepted but had not started.
        SIGTERM or SIGINT: stop accepting invocations, let the running ones finish for the grace
        period, kill the rest, remove the socket, exit 0.

        options:
          --config FILE      the configuration (JSON; every field has a default, see README)
          --socket PATH      the control socket (default: $WARDEN_SOCKET, else /run/warden/warden.sock
                             as root, else $XDG_RUNTIME_DIR/warden.sock)
          --grace SECONDS    drain time at shutdown (default: the config's graceSeconds, 10)

        exit status: 0 after a clean shutdown; 1 if it cannot start (another daemon answers on the
        socket, the state directory is unusable); 2 for a usage error or a bad configuration.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var configPath: String?, socketPath: String?, grace: Double?
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if let value = try cursor.value(for: "--config") { configPath = value; continue }
                if let value = try cursor.value(for: "--socket") { socketPath = value; continue }
                if let value = try cursor.value(for: "--grace") {
                    guard let seconds = Double(value), seconds >= 0, seconds <= 86_400 else {
                        throw UsageError("--grace needs a number of seconds, got '\(value)'")
                    }
                    grace = seconds
                    continue
                }
                throw UsageError("unknown argument \(head)")
            }
        } catch {
            printError("warden serve: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        var config = SupervisorConfig()
        if let configPath {
            do throws(SupervisorError) { config = try SupervisorConfig.load(path: configPath) } catch {
                printError("warden serve: \(error)")
                return ExitCode.usage
            }
        }
        if let socketPath { config.socketPath = socketPath }
        if let grace { config.graceSeconds = grace }
        // Blocked before any thread starts, so every thread inherits the mask and sigwait below is
        // the only taker (sandboxed children unblock everything before exec).
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
        let daemon: SupervisorDaemon
        do throws(SupervisorError) {
            let (started, summary) = try SupervisorDaemon.start(config: config)
            daemon = started
            report(summary)
        } catch {
            printError("warden serve: \(error)")
            return error.code == .configuration ? ExitCode.usage : ExitCode.failure
        }
        printError("warden serve: listening on \(config.socketPath) (state \(config.stateDirectory), traces \(config.traceDirectory))")
        // The daemon's services run until SIGTERM or SIGINT (SIGHUP is taken and ignored), then stop in
        // reverse order: supervisor (drain), control socket, model pool.
        let group = ServiceGroup(daemon.services(graceSeconds: config.graceSeconds))
        let graceSeconds = config.graceSeconds
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<ServiceGroup.Outcome?>(nil)
        Task {
            let result = await group.run(until: {
                let received = await waitForSignal([SIGTERM, SIGINT], ignoring: [SIGHUP])
                printError("warden serve: signal \(received): draining (grace \(graceSeconds) s)")
            }, log: { printError("warden serve: \($0)") })
            outcome.withLock { $0 = result }
            finished.signal()
        }
        finished.wait()
        let result = outcome.withLock { $0 }
        for failure in result?.failures ?? [] { printError("warden serve: \(failure.service) failed: \(failure.error)") }
        printError("warden serve: stopped")
        return result?.failures.isEmpty == false ? ExitCode.failure : ExitCode.success
    }

    /// Says what start-up recovery did, when it did anything.
    static func report(_ summary: RecoverySummary) {
        if !summary.agents.isEmpty || !summary.interrupted.isEmpty || !summary.requeued.isEmpty || !summary.failed.isEmpty
            || !summary.cgroupsRemoved.isEmpty || !summary.tracesClosed.isEmpty {
            printError("warden serve: recovered: \(summary.interrupted.count) runs interrupted, \(summary.requeued.count) requeued, "
                       + "\(summary.failed.count) failed, \(summary.cgroupsRemoved.count) sandboxes removed, \(summary.tracesClosed.count) traces closed")
        }
        for problem in summary.unloadable + summary.unreadable + summary.problems { printError("warden serve: warning: \(problem)") }
    }
}
