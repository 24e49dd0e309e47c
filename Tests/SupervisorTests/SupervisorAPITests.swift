import Foundation
import Testing
import TestSupport

/// The control API end to end: a real `warden serve`, its real unix socket (curl as the client),
/// real sandboxes.
@Suite("supervisor control API", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorAPITests {
    @Test("deploy → invoke → output and status → logs → the run's trace verifies")
    func deployInvokeLogsVerify() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let hello = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/hello.json").path
        #expect(try daemon.deploy(hello).status == 201)
        let (status, answer) = try daemon.json("POST", "/v1/agents/hello/invocations?wait=true", body: Data("hi".utf8))
        #expect(status == 200)
        let run = try #require(answer["run"] as? [String: Any])
        let id = try #require(run["id"] as? String)
        #expect(run["state"] as? String == "succeeded")
        #expect(run["exit_status"] as? Int == 0)
        let stdout = try #require(answer["stdout"] as? String)
        #expect(stdout.contains("Hello from a Warden sandbox"))
        #expect(stdout.contains("pid: 1"))
        let logs = try daemon.request("GET", "/v1/runs/\(id)/logs")
        #expect(logs.status == 200)
        #expect(String(decoding: logs.body, as: UTF8.self) == stdout)
        let verify = try WardenTool.run(["trace", "verify", id], environment: daemon.environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let show = try WardenTool.run(["trace", "show", id], environment: daemon.environment)
        #expect(show.stdout.contains("agent hello  ok (exit 0)"), "\(show.stdout)")
        let records = try JSONSerialization.jsonObject(with: Data(try WardenTool.run(["trace", "show", id, "--json"], environment: daemon.environment).stdout.utf8)) as? [String: Any]
        let input = (records?["records"] as? [[String: Any]])?.first { $0["type"] as? String == "invocation.input" }?["body"] as? [String: Any]
        #expect(input?["text"] as? String == "hi", "the input is in the trace: \(String(describing: records))")
        #expect(input?["length"] as? Int == 2)
        // The same through the control API.
        let traces = try daemon.json("GET", "/v1/traces").object["traces"] as? [[String: Any]] ?? []
        #expect(traces.contains { $0["run"] as? String == id && $0["status"] as? String == "ok" })
        let verified = try daemon.json("GET", "/v1/traces/\(id)/verify")
        #expect(verified.status == 200)
        #expect(verified.object["ok"] as? Bool == true)
        #expect(verified.object["runs_checked"] as? Int == 1)
        let otlp = try daemon.json("GET", "/v1/traces/\(id)/otlp")
        #expect(otlp.object["resourceSpans"] != nil)
        #expect(try daemon.request("GET", "/v1/traces/no-such-run").status == 404)
        #expect(try daemon.request("GET", "/v1/traces/.hidden/verify").status == 400)
        #expect(show.stdout.contains("output stdout \(stdout.utf8.count) B"), "the run's output is in its trace: \(show.stdout)")
    }

    @Test("the shared pool's OpenAI API answers on the control socket without a key; its metrics join /metrics")
    func modelAPIOnTheSocket() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let models = try daemon.json("GET", "/v1/models")
        #expect(models.status == 200)
        let ids = (models.object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(ids.contains("smollm2-135m") && ids.contains("warden-instant"), "\(models.object)")
        let body = Data(#"{"model":"smollm2-135m","max_tokens":4,"temperature":0,"user":"tester","messages":[{"role":"user","content":"Hi"}]}"#.utf8)
        let (status, answer) = try daemon.json("POST", "/v1/chat/completions", body: body, timeout: 120)
        #expect(status == 200, "\(answer)")
        #expect(((answer["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0) >= 1)
        let metrics = String(decoding: try daemon.request("GET", "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("warden_pool_completions_total 1"), "\(metrics)")
        // One queue-depth series, never one per run id.
        #expect(metrics.contains("warden_pool_queue_depth 0") && !metrics.contains("agent="), "\(metrics)")
        #expect(daemon.stop() == 0)
    }

    @Test("the input reaches the agent's stdin; its exit status, or the deadline, comes back", arguments: [
        ("abc", "cat; exit 3", "", 3, "failed"),
        ("", "cat; echo none", "", 0, "succeeded"),
        ("x", "cat; exec sleep 60", "&deadline=0.2", 124, "timed_out"),
    ])
    func inputAndStatus(input: String, script: String, query: String, exitStatus: Int, state: String) throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "echo", script: script)
        #expect(try daemon.deploy(spec).status == 201)
        let (status, answer) = try daemon.json("POST", "/v1/agents/echo/invocations?wait=true" + query, body: Data(input.utf8))
        #expect(status == 200)
        let run = try #require(answer["run"] as? [String: Any])
        #expect(run["exit_status"] as? Int == exitStatus)
        #expect(run["state"] as? String == state)
        if script.hasPrefix("cat") { #expect((answer["stdout"] as? String ?? "").hasPrefix(input)) }
    }

    @Test("an entrypoint that cannot be executed: error, 127, and its trace is closed (verifies, nothing open)")
    func cannotExecute() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = daemon.directory.appendingPathComponent("missing.json")
        try """
            {"name": "missing", "policy": "\(SandboxScratch.defaultPolicy.path)", "entrypoint": ["/usr/bin/no-such-program"],
             "workingDirectory": "/workspace", "environment": {"PATH": "/usr/bin"}}
            """.write(to: spec, atomically: true, encoding: .utf8)
        #expect(try daemon.deploy(spec.path).status == 201)
        let (status, answer) = try daemon.json("POST", "/v1/agents/missing/invocations?wait=true", body: Data())
        #expect(status == 200)
        let run = try #require(answer["run"] as? [String: Any])
        #expect(run["state"] as? String == "error")
        #expect(run["exit_status"] as? Int == 127)
        let id = try #require(run["id"] as? String)
        let verified = try daemon.json("GET", "/v1/traces/\(id)/verify")
        #expect(verified.object["ok"] as? Bool == true, "\(verified.object)")
        #expect((verified.object["open_runs"] as? [Any])?.isEmpty == true, "\(verified.object)")
    }

    @Test("a spec with a broker section gets its broker, as with warden run: the agent reaches it from its sandbox")
    func broker() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "asker",
                                       script: "curl -sS -H \"Authorization: Bearer $OPENAI_API_KEY\" \"$OPENAI_BASE_URL/models\"",
                                       extra: ["broker": [String: Any]()])
        #expect(try daemon.deploy(spec).status == 201)
        let (status, answer) = try daemon.json("POST", "/v1/agents/asker/invocations?wait=true", body: Data())
        #expect(status == 200)
        #expect((answer["run"] as? [String: Any])?["exit_status"] as? Int == 0, "\(answer)")
        let models = try JSONSerialization.jsonObject(with: Data((answer["stdout"] as? String ?? "").utf8)) as? [String: Any]
        #expect((models?["data"] as? [[String: Any]])?.isEmpty == false, "\(answer)")
    }

    @Test("deploy by name from the agents directory; update with PUT; retention drops the oldest runs with their files")
    func agentsDirectoryUpdateRetention() throws {
        let agents = WardenTool.packageRoot.appendingPathComponent("AgentSpecs").path
        let daemon = try TestDaemon(extra: "\"agentsDirectory\": \"\(agents)\", \"runRetention\": 2")
        defer { daemon.cleanUp() }
        try daemon.start()
        let deployed = try daemon.json("POST", "/v1/agents", body: Data("{\"spec\": \"hello\"}".utf8))
        #expect(deployed.status == 201)
        #expect((deployed.object["agent"] as? [String: Any])?["spec"] as? String == agents + "/hello.json")
        let updated = try daemon.json("PUT", "/v1/agents/hello", body: Data("{\"concurrency\": 7}".utf8))
        #expect(updated.status == 200)
        let listed = try daemon.json("GET", "/v1/agents").object["agents"] as? [[String: Any]] ?? []
        #expect(listed.first?["concurrency"] as? Int == 7)
        #expect(try daemon.json("PUT", "/v1/agents/nobody", body: Data("{}".utf8)).status == 404)
        var ids: [String] = []
        for _ in 0..<3 {
            let answer = try daemon.json("POST", "/v1/agents/hello/invocations?wait=true", body: Data()).object
            ids.append(try #require((answer["run"] as? [String: Any])?["id"] as? String))
        }
        let runs = try daemon.waitForRuns { $0.count == 2 }
        #expect(Set(runs.keys) == Set(ids.suffix(2)), "the oldest run was dropped")
        #expect(!FileManager.default.fileExists(atPath: daemon.stateDirectory + "/runs/\(ids[0]).json"))
        #expect(!FileManager.default.fileExists(atPath: daemon.stateDirectory + "/logs/\(ids[0]).stdout"))
        #expect(try daemon.request("GET", "/v1/runs/\(ids[0])").status == 404)
    }

    @Test("bad deploy requests are refused with the field named, and nothing is stored", arguments: [
        ("{\"spec\": 3}", "$.spec"),
        ("{\"spce\": \"/x.json\"}", "spce"),
        ("not json", "<request body>"),
        ("{\"spec\": \"relative.json\"}", "absolute"),
        ("{\"spec\": \"/nonexistent/agent.json\"}", "/nonexistent/agent.json"),
    ])
    func badRequests(body: String, named: String) throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let (status, answer) = try daemon.json("POST", "/v1/agents", body: Data(body.utf8))
        #expect(status == 400)
        let error = try #require(answer["error"] as? [String: Any])
        #expect((error["message"] as? String ?? "").contains(named), "\(error)")
        #expect((try daemon.json("GET", "/v1/agents").object["agents"] as? [Any])?.isEmpty == true)
    }

    @Test("a spec whose bind or code directory would show the control socket inside the sandbox is refused (400)")
    func socketNeverInsideASandbox() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let socketDirectory = URL(fileURLWithPath: daemon.socketPath).deletingLastPathComponent()
        // A bind of the socket's directory's parent, and a code directory that is the socket's directory.
        let byBind = try TestAgents.spec(in: daemon.directory, name: "peeker", script: "true", gate: nil, adjustPolicy: { policy in
            var filesystem = policy["filesystem"] as? [String: Any] ?? [:]
            var binds = filesystem["binds"] as? [[String: Any]] ?? []
            binds.append(["source": socketDirectory.deletingLastPathComponent().path, "target": "/host", "readOnly": true])
            filesystem["binds"] = binds
            policy["filesystem"] = filesystem
        })
        let byCode = try TestAgents.spec(in: daemon.directory, name: "coder", script: "true", extra: ["code": "."])  // the spec sits beside the socket
        for path in [byBind, byCode] {
            let (status, answer) = try daemon.deploy(path)
            #expect(status == 400, "\(answer)")
            let error = answer["error"] as? [String: Any] ?? [:]
            #expect(error["code"] as? String == "invalid_spec")
            #expect((error["message"] as? String ?? "").contains("control socket"), "\(error)")
        }
        #expect((try daemon.json("GET", "/v1/agents").object["agents"] as? [Any])?.isEmpty == true)
        // A bind elsewhere is fine.
        let fine = try TestAgents.spec(in: daemon.directory, name: "fine", script: "true", gate: daemon.directory.appendingPathComponent("gate"))
        #expect(try daemon.deploy(fine).status == 201)
    }

    @Test("a spec with an unknown field is refused (400) naming file:line:column and path; nothing is stored")
    func badSpec() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = daemon.directory.appendingPathComponent("bad.json")
        try """
            {"name": "bad", "policy": "\(SandboxScratch.defaultPolicy.path)",
             "entrypoint": ["/bin/true"], "entrypont": 1}
            """.write(to: spec, atomically: true, encoding: .utf8)
        let (status, answer) = try daemon.deploy(spec.path)
        #expect(status == 400)
        let error = try #require(answer["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_spec")
        let message = error["message"] as? String ?? ""
        #expect(message.contains(spec.path + ":2:"), "\(message)")
        #expect(message.contains("entrypont"), "\(message)")
        let stored = (try? String(contentsOfFile: daemon.stateDirectory + "/agents.json", encoding: .utf8)) ?? ""
        #expect(!stored.contains("bad"))
        #expect((try daemon.json("GET", "/v1/agents").object["agents"] as? [Any])?.isEmpty == true)
    }

    @Test("404 for unknown agents and runs, 409 for a taken name, 405-free routing of unknown paths")
    func notFoundAndConflict() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "one", script: "true")
        #expect(try daemon.deploy(spec).status == 201)
        let taken = try daemon.deploy(spec)
        #expect(taken.status == 409)
        #expect((taken.object["error"] as? [String: Any])?["code"] as? String == "conflict")
        for (method, path) in [("POST", "/v1/agents/nobody/invocations"), ("GET", "/v1/runs/nope"), ("GET", "/v1/runs/nope/logs"),
                               ("POST", "/v1/runs/nope/stop"), ("DELETE", "/v1/agents/nobody"), ("GET", "/v2/what")] {
            #expect(try daemon.json(method, path, body: method == "POST" ? Data() : nil).status == 404, "\(method) \(path)")
        }
        #expect(try daemon.json("DELETE", "/v1/agents/one").status == 200)
        #expect(try daemon.deploy(spec).status == 201, "a removed name can be deployed again")
    }
}
