import Specs

/// `warden ps`: the supervisor's agents and runs.
enum PsCommand: WardenCommand {
    static let name = "ps"
    static let summary = "Lists the supervisor's deployed agents and their runs."
    static let usage = """
        usage: warden ps [--agent NAME] [--json] [--socket PATH]

        Lists the deployed agents (with running and queued invocations) and the runs the
        supervisor keeps (newest last), or, with --json, prints {"agents": [...], "runs": [...]}.

        options:
          --agent NAME     only this agent's runs
          --json           one JSON object on stdout
          --socket PATH    the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var json = false
        var agent: String?
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if cursor.flag("--json") { json = true; continue }
                if let value = try cursor.value(for: "--agent") { agent = value; continue }
                throw UsageError("unknown argument \(head)")
            }
        } catch {
            printError("warden ps: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        guard let agents = options.call(name, "GET", "/v1/agents")?.json?[member: "agents"],
              let runs = options.call(name, "GET", "/v1/runs" + (agent.map { "?agent=" + ControlOptions.escape($0) } ?? ""))?.json?[member: "runs"]
        else { return ExitCode.failure }
        if json {
            print(JSONWriter.compact(.object(JSONObject([("agents", agents), ("runs", runs)]))))
            return ExitCode.success
        }
        var rows = [["AGENT", "RUNNING", "QUEUED", "CONCURRENCY", "REPLICAS", "SPEC"]]
        if case .array(let items) = agents {
            for item in items {
                var row = ["name", "running", "queued", "concurrency"].map { item[member: $0]?.cell ?? "-" }
                var replicas = "-"
                if case .array(let slots)? = item[member: "replicas"], !slots.isEmpty {
                    replicas = slots.map { $0[member: "state"]?.cell ?? "?" }.joined(separator: ",")
                }
                row += [replicas, item[member: "spec"]?.cell ?? "-"]
                rows.append(row)
            }
        }
        print(table(rows))
        rows = [["RUN", "AGENT", "STATE", "EXIT", "MESSAGE"]]
        if case .array(let items) = runs {
            for item in items {
                rows.append(["id", "agent", "state", "exit_status", "message"].map { item[member: $0]?.cell ?? "-" })
            }
        }
        print(table(rows))
        return ExitCode.success
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n")
    }
}
