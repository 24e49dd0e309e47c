import Glibc
import Specs

/// `warden deploy`: deploys, updates or removes an agent on the running supervisor.
enum DeployCommand: WardenCommand {
    static let name = "deploy"
    static let summary = "Deploys an agent spec to the supervisor (warden serve)."
    static let usage = """
        usage: warden deploy SPEC [--concurrency N] [--queue-limit N] [--replicas N] [--restart POLICY]
                             [--serve [--max-replicas N] [--idle-seconds S]] [--socket PATH]
               warden deploy --update NAME [SPEC] [--concurrency N] [--queue-limit N]
               warden deploy --remove NAME

        Deploys the agent in the spec file SPEC (validated exactly as `warden run` validates it;
        a bad spec is refused with file:line:column and the JSON path). SPEC may also name a spec in
        the daemon's agents directory. --update reloads NAME from SPEC (default: its spec file
        again) for the runs that start from now on; --remove undeploys it (queued invocations end
        as errors, running ones finish).

        options:
          --concurrency N    invocations of this agent running at once (default: the daemon's, 4)
          --queue-limit N    invocations waiting beyond those (default: the daemon's, 64; 429 beyond)
          --replicas N       also keep N long-lived sandboxes of the agent running (default 0)
          --restart POLICY   when a replica is restarted: never, on-failure (default) or always;
                             with exponential backoff, and no more restarts once it crash-loops
          --serve            the replicas answer the agent's invocations (JSON lines on stdio:
                             {"id", "input"} in, {"id", "output", "status"} out) instead of a fresh
                             sandbox per invocation; --replicas is then the minimum
          --max-replicas N   with --serve: scale up to N replicas while invocations wait
          --idle-seconds S   with --serve: retire a scaled-up replica after S idle seconds (60)
          --socket PATH      the supervisor's socket (default: $WARDEN_SOCKET, else as warden serve)

        exit status: 0 done; 1 refused (the message says why) or no supervisor; 2 usage error.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var options = ControlOptions()
        var positional: [String] = []
        var update: String?, remove: String?
        var fields: [(String, JSONValue)] = []
        var cursor = ArgumentCursor(arguments)
        do throws(UsageError) {
            while let head = cursor.peek {
                if try options.parse(&cursor) { continue }
                if let value = try cursor.value(for: "--update") { update = value; continue }
                if let value = try cursor.value(for: "--remove") { remove = value; continue }
                if let value = try cursor.value(for: "--concurrency") { fields.append(("concurrency", try number(value, "--concurrency"))); continue }
                if let value = try cursor.value(for: "--queue-limit") { fields.append(("queueLimit", try number(value, "--queue-limit"))); continue }
                if let value = try cursor.value(for: "--replicas") { fields.append(("replicas", try number(value, "--replicas"))); continue }
                if let value = try cursor.value(for: "--restart") { fields.append(("restart", .string(value))); continue }
                if cursor.flag("--serve") { fields.append(("serve", .bool(true))); continue }
                if let value = try cursor.value(for: "--max-replicas") { fields.append(("maxReplicas", try number(value, "--max-replicas"))); continue }
                if let value = try cursor.value(for: "--idle-seconds") {
                    guard let seconds = Double(value), seconds > 0, let number = JSONNumber(seconds) else {
                        throw UsageError("--idle-seconds needs a positive number, got '\(value)'")
                    }
                    fields.append(("idleSeconds", .number(number)))
                    continue
                }
                if head.hasPrefix("-") { throw UsageError("unknown option \(head)") }
                positional.append(cursor.next() ?? "")
            }
            if update == nil && remove == nil && positional.count != 1 { throw UsageError("one SPEC, please") }
            if positional.count > 1 || remove != nil && (!positional.isEmpty || update != nil) { throw UsageError("too many arguments") }
        } catch {
            printError("warden deploy: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        if let remove {
            guard options.call(name, "DELETE", "/v1/agents/" + ControlOptions.escape(remove)) != nil else { return ExitCode.failure }
            print("removed \(remove)")
            return ExitCode.success
        }
        if let spec = positional.first { fields.insert(("spec", .string(absoluteIfLocal(spec))), at: 0) }
        let body = JSONWriter.compactBytes(.object(JSONObject(fields)))
        let reply = update.map { options.call(name, "PUT", "/v1/agents/" + ControlOptions.escape($0), body: body) }
            ?? options.call(name, "POST", "/v1/agents", body: body)
        guard let reply, let agent = reply.json?[member: "agent"] else { return ExitCode.failure }
        print("\(update == nil ? "deployed" : "updated") \(agent[member: "name"]?.cell ?? "?") from \(agent[member: "spec"]?.cell ?? "?")")
        return ExitCode.success
    }

    static func number(_ text: String, _ flag: String) throws(UsageError) -> JSONValue {
        guard let value = Int(text), value >= 0 else { throw UsageError("\(flag) needs a whole number, got '\(text)'") }
        return .number(JSONNumber(value))
    }

    /// A spec file that exists here, made absolute (the daemon has its own working directory);
    /// anything else is passed on as a name for the daemon's agents directory.
    static func absoluteIfLocal(_ path: String) -> String {
        guard !path.hasPrefix("/"), access(path, F_OK) == 0, let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
    }
}
