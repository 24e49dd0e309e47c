import Broker
import Glibc
import Sandbox
import Specs
import Supervisor
import TraceStore

/// `warden run`: Runs an agent spec in a sandbox.
enum RunCommand: WardenCommand {
    static let name = "run"
    static let summary = "Runs an agent spec in a sandbox."
    static let usage = """
        usage: warden run SPEC [--workspace DIR] [--models FILE] [--timeout SECONDS] [--no-trace] [--json] [--verbose]

        Runs the agent described by the spec file SPEC (AgentSpecs/*.json) under the policy it
        names, with the spec's entrypoint, environment (nothing inherited) and working directory;
        its code directory is mounted read-only at /agent and a workspace read-write at /workspace
        (--workspace DIR, else a fresh tmpfs that vanishes with the run; a run whose broker offers
        fs.* tools gets a fresh host directory instead, under $WARDEN_WORKSPACE_DIR, removed after).
        The agent's stdout and stderr stream through, bounded to 16 MiB each (the rest is dropped
        and counted). The cgroup mode used, and any limit this host cannot enforce, are reported.

        options:
          --workspace DIR    use DIR (kept afterwards) as /workspace instead of a fresh one
          --models FILE      model serving configuration for the broker: the inference pool's settings
                             and upstream OpenAI-compatible servers (default: $WARDEN_MODELS, else the
                             embedded model on a default pool)
          --timeout SECONDS  wall-clock limit (default: the spec's, else the policy's)
          --no-trace         do not record the run in the execution trace (recorded by default: warden trace ls)
          --json             print the run report as one JSON object on stdout; the agent's output
                             is captured (bounded) into it instead of being streamed
          --verbose          print the one-line summary of how the run ended even when it exited 0

        exit status: the agent's own status; 128+N if killed by signal N (137 for an OOM kill);
        124 at the wall-clock timeout (as timeout(1)); 127/126 if the entrypoint cannot be found or
        executed; 1 if the sandbox could not be set up; 2 for a usage error or a bad spec or policy
        (the message names file:line:column and the JSON path).
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = RunOptions(trace: true)
        var workspace: String?
        var specPath: String?
        var modelsPath = ServeModelCommand.environmentValue("WARDEN_MODELS")
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if let value = try cursor.value(for: "--workspace") { workspace = value; continue }
                if let value = try cursor.value(for: "--models") { modelsPath = value; continue }
                if try options.parse(&cursor) { continue }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                if specPath != nil { throw UsageError("one spec at a time (got \(head) too)") }
                specPath = cursor.next()
            }
            if specPath == nil { throw UsageError("missing SPEC") }
        } catch {
            printError("warden run: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        Launcher.prepareOneNetworkNamespace()   // made on another core while the spec loads
        let spec: AgentSpec
        do throws(SpecError) {
            spec = try AgentSpec.load(path: specPath ?? "")
        } catch {
            printError("warden run: \(error)")
            return ExitCode.usage
        }
        let traceStart = { () throws(TraceError) -> RunStart in
            RunStart.make(agentName: spec.name, spec: try RunStart.snapshot(path: spec.file),
                          policy: try RunStart.snapshot(path: spec.policyPath), wardenVersion: version)
        }
        var broker: RunBroker?
        if let policy = spec.broker {
            do {
                broker = RunBroker(policy: policy, workspace: workspace, spec: spec, models: try ModelCatalog.configured(path: modelsPath))
            } catch {
                printError("warden run: \(error.message)")
                return ExitCode.usage
            }
        }
        return options.execute(commandName: "run", traceStart: traceStart, broker: broker) { () throws(SandboxRun.Error) in
            try SandboxRun.Request.agent(spec, workspace: workspace)
        }
    }
}

/// The options `warden run` and `warden exec` share, and how both report a finished run.
struct RunOptions {
    var json = false
    var verbose = false
    var timeoutSeconds: Double?
    /// Whether the run is recorded in the execution trace: always for `warden run` (agents) unless
    /// `--no-trace`; for `warden exec`, the bubblewrap-like one-off, only with `--trace`.
    var trace = false

    /// Consumes one shared option if it is next; false if the next argument is not one of them.
    mutating func parse(_ cursor: inout ArgumentCursor) throws(UsageError) -> Bool {
        if cursor.flag("--json") { json = true; return true }
        if cursor.flag("--trace") { trace = true; return true }
        if cursor.flag("--no-trace") { trace = false; return true }
        if cursor.flag("--verbose") || cursor.flag("-v") { verbose = true; return true }
        if let value = try cursor.value(for: "--timeout") {
            guard let seconds = Double(value), seconds > 0, seconds < 1e9 else {
                throw UsageError("--timeout needs a positive number of seconds, got '\(value)'")
            }
            timeoutSeconds = seconds
            return true
        }
        return false
    }

    /// Builds the request, runs it, and turns the outcome into output and an exit status.
    func execute(commandName: String, traceStart: (() throws(TraceError) -> RunStart)? = nil,
                 broker: RunBroker? = nil,
                 _ makeRequest: () throws(SandboxRun.Error) -> SandboxRun.Request) -> Int32 {
        var settings = SandboxRun.Settings()
        settings.removeOrphanedRuns = true
        settings.cloneOnCallingThread = true   // the main thread lives until the run has ended
        settings.confirmExecAtExit = true      // taken only where nothing needs the exec sooner
        if json { settings.stdout = .capture; settings.stderr = .capture }
        let result: SandboxRun.Result
        do throws(SandboxRun.Error) {
            var request = try makeRequest()
            RunTiming.mark("request_ready")
            if let timeoutSeconds { request.timeoutNanos = UInt64(timeoutSeconds * 1e9) }
            if trace, let traceStart {
                let audited = request.auditedSyscalls.map(\.name)
                guard let recorder = Self.startTrace(commandName, audited: audited, traceStart) else { return ExitCode.failure }
                settings.trace = recorder
            }
            // Made after the trace starts and removed once the broker and the run are done (the
            // defers run in reverse), on every path out of here, setup failures included.
            var broker = broker
            let temporaryWorkspace = try broker?.hostWorkspace(for: &request)
            defer {
                do throws(SandboxRun.Error) { try temporaryWorkspace?.remove() } catch {
                    printError("warden \(commandName): \(error)")
                }
            }
            var brokerRun: (broker: BrokerRun, tools: MCPRunTools)?
            if let broker {
                do {
                    brokerRun = try broker.start(runID: settings.trace?.runID ?? "untraced", trace: settings.trace)
                } catch {
                    printError("warden \(commandName): cannot start the broker: \(error)")
                    return ExitCode.failure
                }
                brokerRun?.broker.attach(&request, &settings)
            }
            defer { brokerRun?.tools.stop(); brokerRun?.broker.stop() }
            result = try SandboxRun.execute(request, settings: settings)
        } catch {
            printError("warden \(commandName): \(error)")
            return Self.status(for: error)
        }
        let report = result.report
        if let traceError = result.traceError {
            printError("warden \(commandName): the trace could not record the run, so it was stopped: \(traceError)")
            return ExitCode.failure
        }
        if verbose, let recorder = settings.trace { printError("warden \(commandName): trace \(recorder.runID)") }
        if json {
            guard case .object(var object) = report.json else { return ExitCode.failure }
            object["stdout"] = .string(String(decoding: result.stdout, as: UTF8.self))
            object["stderr"] = .string(String(decoding: result.stderr, as: UTF8.self))
            print(JSONWriter.compact(.object(object)))
        } else if verbose || !report.succeeded {
            printError("warden \(commandName): \(report.summary) [cgroups: \(report.cgroupMode.rawValue)]")
        } else if !report.unenforced.isEmpty {
            // A limit the policy asked for but this host could not apply is never silent.
            printError("warden \(commandName): warning: not enforced here: " + report.unenforced.joined(separator: "; "))
        }
        return report.exitStatus
    }

    /// Opens the run's trace (SandboxRun+Trace.swift records into it); nil after printing why not.
    static func startTrace(_ commandName: String, audited: [String], _ traceStart: () throws(TraceError) -> RunStart) -> TraceRecorder? {
        do {
            var start = try traceStart()
            start.auditedSyscalls = audited
            return try TraceRecorder.start(start, directory: TraceDirectory.resolve())
        } catch {
            printError("warden \(commandName): cannot start the trace: \(error)")
            return nil
        }
    }

    /// Exit statuses for runs that never started, as shells and timeout(1) use them.
    static func status(for error: SandboxRun.Error) -> Int32 {
        switch error.code {
        case .exec: return error.errno == ENOENT ? 127 : 126
        case .configuration: return ExitCode.usage
        default: return ExitCode.failure
        }
    }
}
