import Glibc
import Sandbox
import Specs
import TraceStore

/// `warden exec`: Runs one command in a sandbox.
enum ExecCommand: WardenCommand {
    static let name = "exec"
    static let summary = "Runs one command in a sandbox."
    static let usage = """
        usage: warden exec [--policy FILE] [--workspace DIR] [--timeout SECONDS] [--trace] [--json] [--verbose] -- COMMAND [ARG...]

        Runs COMMAND in a new sandbox under a policy: new user, pid, mount, network (loopback only),
        ipc, uts and cgroup namespaces, the policy's read-only binds, seccomp filter, rlimits and
        cgroup limits. The workspace is mounted read-write at /workspace and is the working
        directory: the directory --workspace names, else a fresh tmpfs that vanishes with the run.
        The environment is PATH=/usr/local/bin:/usr/bin:/bin and HOME=/workspace; stdin is
        /dev/null. COMMAND is pid 1 of its pid namespace: when it exits, everything it started is
        killed, and signals it sends itself without a handler are ignored, as for any init.

        options:
          --policy FILE      the policy (default: default.json in $WARDEN_POLICY_DIR, else the
                             Policies/ directory of the checkout warden was built in, else
                             /usr/local/share/warden/policies)
          --workspace DIR    use DIR (kept afterwards) as /workspace
          --timeout SECONDS  wall-clock limit (default: the policy's)
          --trace            record the run in the execution trace (warden trace ls)
          --json             print the run report as one JSON object on stdout; the command's output
                             is captured (bounded) into it instead of being streamed
          --verbose          print the one-line summary of how the run ended even when it exited 0

        exit status (the conventions of timeout(1) and container runtimes):
          the command's own status; 128+N if it was killed by signal N (137 for an OOM kill);
          124 if it was killed at the wall-clock timeout; 127 if COMMAND was not found and 126 if it
          could not be executed; 1 if the sandbox could not be set up; 2 for a usage error or a bad
          policy (the message names file:line:column and the JSON path).
        """

    static func run(_ arguments: [String]) -> Int32 {
        RunTiming.mark("main")
        var options = RunOptions()
        var policyPath: String?
        var workspace: String?
        var command: [String] = []
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if head == "--" { command = cursor.rest(); break }
                if let value = try cursor.value(for: "--policy") { policyPath = value; continue }
                if let value = try cursor.value(for: "--workspace") { workspace = value; continue }
                if try options.parse(&cursor) { continue }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                command = cursor.rest()
            }
            if command.isEmpty { throw UsageError("missing command: warden exec [options] -- COMMAND [ARG...]") }
        } catch {
            printError("warden exec: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        Launcher.prepareOneNetworkNamespace()   // made on another core while the policy loads
        let path = policyPath ?? PolicyDirectory.defaultPolicy()
        RunTiming.mark("policy_located")
        // The prepared-policy cache: a policy file seen before (same bytes, same warden build, same
        // bind sources present) skips the JSON parse, validation and filter-cache lookup.
        var prepared: PreparedPolicy?
        var seccompFailure: SeccompError?
        do throws(SeccompCache.PreparedError) {
            prepared = try PreparedPolicy.load(path: path).policy
        } catch {
            switch error {
            case .policy(let error):
                printError("warden exec: \(error)")
                return ExitCode.usage
            case .seccomp(let error): seccompFailure = error  // reported by the run, as before
            }
        }
        RunTiming.mark("policy_loaded")
        let traceStart = { () throws(TraceError) -> RunStart in
            RunStart.make(agentName: String(command[0].split(separator: "/").last ?? "exec"),
                          spec: RunStart.commandSnapshot(command), policy: try RunStart.snapshot(path: path), wardenVersion: version)
        }
        return options.execute(commandName: "exec", traceStart: traceStart) { () throws(SandboxRun.Error) in
            guard let prepared else {
                throw SandboxRun.Error(.configuration, "seccomp: \(seccompFailure.map { "\($0)" } ?? "no filter")")
            }
            return try SandboxRun.Request.command(command, prepared: prepared, workspace: workspace)
        }
    }
}
