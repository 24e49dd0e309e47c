import Glibc
import Specs
import Supervisor

/// `warden invoke`: runs a deployed agent once, through the supervisor.
enum InvokeCommand: WardenCommand {
    static let name = "invoke"
    static let summary = "Invokes a deployed agent with an input (through warden serve)."
    static let usage = """
        usage: warden invoke NAME [--input TEXT] [--deadline SECONDS] [--no-wait] [--socket PATH]

        Runs the deployed agent NAME once in a fresh sandbox, with TEXT (else everything on this
        command's stdin) on the agent's stdin; prints the agent's stdout and stderr and exits with
        its status, as `warden run` does. The run is recorded in the trace under its run id.
        With --no-wait, prints the run id as soon as the invocation is accepted (follow it with
        `warden logs -f RUN`, see it in `warden ps`).

        options:
          --input TEXT        the input (default: read stdin to its end, unless it is a terminal)
          --deadline SECONDS  wall-clock limit for this run (default: the spec's timeout)
          --no-wait           print the run id and return at once
          --socket PATH       the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)

        exit status: the agent's own status; 128+N if killed by signal N; 124 at the deadline;
        1 if the supervisor refused the invocation (unknown agent, queue full, shutting down) or
        none answers; 2 for a usage error.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var agent: String?, input: [UInt8]?, deadline: String?
        var wait = true
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if let value = try cursor.value(for: "--input") { input = Array(value.utf8); continue }
                if let value = try cursor.value(for: "--deadline") {
                    guard let seconds = Double(value), seconds > 0 else { throw UsageError("--deadline needs a positive number of seconds, got '\(value)'") }
                    deadline = String(seconds)
                    continue
                }
                if cursor.flag("--no-wait") { wait = false; continue }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                if agent != nil { throw UsageError("one agent at a time (got \(head) too)") }
                agent = cursor.next()
            }
            guard agent != nil else { throw UsageError("missing NAME") }
        } catch {
            printError("warden invoke: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        let body = input ?? (isatty(0) == 1 ? [] : readStandardInput())
        var target = "/v1/agents/" + ControlOptions.escape(agent ?? "") + "/invocations?wait=\(wait)"
        if let deadline { target += "&deadline=" + deadline }
        guard let reply = options.call(name, "POST", target, body: body), let run = reply.json?[member: "run"] else { return ExitCode.failure }
        guard wait else {
            print(run[member: "id"]?.cell ?? "?")
            return ExitCode.success
        }
        writeAll(1, output(reply.json, "stdout"))
        writeAll(2, output(reply.json, "stderr"))
        let status: Int32 = if case .number(let n)? = run[member: "exit_status"], let v = n.int64 { Int32(truncatingIfNeeded: v) } else { ExitCode.failure }
        if run[member: "state"]?.cell != "succeeded" {
            printError("warden invoke: run \(run[member: "id"]?.cell ?? "?") \(run[member: "state"]?.cell ?? "?"): \(run[member: "message"]?.cell ?? "")")
        }
        return status
    }

    /// A stream of the answer: text, or base64 for output that is not UTF-8.
    static func output(_ reply: JSONValue?, _ stream: String) -> [UInt8] {
        if case .string(let text)? = reply?[member: stream] { return Array(text.utf8) }
        if case .string(let encoded)? = reply?[member: stream + "_base64"] { return Base64Text.decode(encoded) }
        return []
    }

    static func readStandardInput() -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }
}

/// Writes every byte to `fd` (stops quietly if it goes away).
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
