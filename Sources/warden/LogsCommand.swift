import Supervisor

/// `warden logs`: a run's output, from the supervisor.
enum LogsCommand: WardenCommand {
    static let name = "logs"
    static let summary = "Prints (or follows) a supervisor run's output."
    static let usage = """
        usage: warden logs [-f] [--stderr] RUN [--socket PATH]

        Prints the stdout (or with --stderr, the stderr) the run RUN has written so far, as kept
        by the supervisor (bounded per stream by its outputLimitBytes). With -f, keeps printing
        what the agent writes until the run ends.

        options:
          -f, --follow     follow the output until the run ends
          --stderr         the agent's stderr instead of its stdout
          --socket PATH    the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var follow = false, stream = "stdout"
        var runID: String?
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if cursor.flag("-f") || cursor.flag("--follow") { follow = true; continue }
                if cursor.flag("--stderr") { stream = "stderr"; continue }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                if runID != nil { throw UsageError("one run at a time") }
                runID = cursor.next()
            }
            guard runID != nil else { throw UsageError("missing RUN") }
        } catch {
            printError("warden logs: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        let target = "/v1/runs/" + ControlOptions.escape(runID ?? "") + "/logs?stream=\(stream)&follow=\(follow)"
        do throws(SupervisorError) {
            let reply = try options.client.stream("GET", target) { writeAll(1, $0) }
            guard reply.status == 200 else {
                printError("warden logs: \(reply.errorMessage)")
                return ExitCode.failure
            }
            return ExitCode.success
        } catch {
            printError("warden logs: \(error)")
            return ExitCode.failure
        }
    }
}
