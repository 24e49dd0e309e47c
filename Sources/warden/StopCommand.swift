/// `warden stop`: ends a supervisor run.
enum StopCommand: WardenCommand {
    static let name = "stop"
    static let summary = "Stops a supervisor run (queued or running)."
    static let usage = """
        usage: warden stop [--kill] RUN [--socket PATH]

        Ends the run RUN: a queued invocation leaves its queue, a running one has its sandbox's
        process tree killed (its trace records the kill). The run ends as `stopped`.

        options:
          --kill           the same, said plainly (stop does not wait for the agent to exit cleanly)
          --socket PATH    the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)

        exit status: 0 stopped; 1 no such run, already ended, or no supervisor; 2 usage error.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var kill = false
        var runID: String?
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if cursor.flag("--kill") { kill = true; continue }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                if runID != nil { throw UsageError("one run at a time") }
                runID = cursor.next()
            }
            guard runID != nil else { throw UsageError("missing RUN") }
        } catch {
            printError("warden stop: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        let path = "/v1/runs/" + ControlOptions.escape(runID ?? "") + (kill ? "/kill" : "/stop")
        guard let reply = options.call(name, "POST", path), let run = reply.json?[member: "run"] else { return ExitCode.failure }
        print("\(run[member: "id"]?.cell ?? "?") \(run[member: "state"]?.cell ?? "?")")
        return ExitCode.success
    }
}
