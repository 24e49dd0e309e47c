/// `warden stop`: ends a supervisor run.
enum StopCommand: WardenCommand {
    static let name = "stop"
    static let summary = "Stops a supervisor run (queued or running)."
    static let usage = """
        usage: warden stop [--kill | --grace SECONDS] RUN [--socket PATH]

        Ends the run RUN: a queued invocation leaves its queue; a running one gets SIGTERM and, if
        it is still running after the grace period, its sandbox's process tree is killed (the trace
        records how it ended). The run ends as `stopped`. An agent that is its sandbox's pid 1 sees
        SIGTERM only if it handles it (as in a container).

        options:
          --grace SECONDS  time between SIGTERM and the kill (default 10)
          --kill           kill the process tree at once
          --socket PATH    the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)

        exit status: 0 stopped; 1 no such run, already ended, or no supervisor; 2 usage error.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var kill = false
        var grace: String?
        var runID: String?
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if cursor.flag("--kill") { kill = true; continue }
                if let value = try cursor.value(for: "--grace") {
                    guard let seconds = Double(value), seconds >= 0 else { throw UsageError("--grace needs a number of seconds, got '\(value)'") }
                    grace = String(seconds)
                    continue
                }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                if runID != nil { throw UsageError("one run at a time") }
                runID = cursor.next()
            }
            guard runID != nil else { throw UsageError("missing RUN") }
        } catch {
            printError("warden stop: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        let path = "/v1/runs/" + ControlOptions.escape(runID ?? "") + (kill ? "/kill" : "/stop" + (grace.map { "?grace=" + $0 } ?? ""))
        guard let reply = options.call(name, "POST", path), let run = reply.json?[member: "run"] else { return ExitCode.failure }
        print("\(run[member: "id"]?.cell ?? "?") \(run[member: "state"]?.cell ?? "?")")
        return ExitCode.success
    }
}
