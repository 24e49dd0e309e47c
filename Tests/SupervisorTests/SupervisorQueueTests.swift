import Foundation
import Testing
import TestSupport

/// Queues, concurrency limits, stop, and the metrics they show.
@Suite("supervisor queues", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorQueueTests {
    @Test("at most `concurrency` runs at once; the rest wait in the queue; a full queue answers 429")
    func concurrencyAndQueueFull() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "gated", script: TestAgents.gated("go", then: "echo done"), gate: gate)
        #expect(try daemon.deploy(spec, concurrency: 2, queueLimit: 1).status == 201)
        var ids: [String] = []
        for _ in 0..<3 {
            let (status, answer) = try daemon.json("POST", "/v1/agents/gated/invocations", body: Data())
            #expect(status == 202)
            ids.append(try #require((answer["run"] as? [String: Any])?["id"] as? String))
        }
        // Two run, one waits: the fourth finds the queue full.
        let states = try daemon.waitForRuns { runs in ids.compactMap { runs[$0]?["state"] as? String }.filter { $0 == "running" }.count == 2 }
        #expect(ids.compactMap { states[$0]?["state"] as? String }.sorted() == ["queued", "running", "running"])
        let full = try daemon.json("POST", "/v1/agents/gated/invocations", body: Data())
        #expect(full.status == 429)
        #expect((full.object["error"] as? [String: Any])?["code"] as? String == "queue_full")
        let metrics = try MetricsText(String(decoding: daemon.request("GET", "/metrics").body, as: UTF8.self))
        #expect(metrics.value("warden_runs_running") == 2)
        #expect(metrics.value("warden_queue_depth") == 1)
        #expect(metrics.value("warden_invocations_rejected_total{reason=\"queue_full\"}") == 1)
        // Open the gate: all three finish, never more than two at once (the third started after one ended).
        FileManager.default.createFile(atPath: gate.appendingPathComponent("go").path, contents: nil)
        let done = try daemon.waitForRuns { runs in ids.allSatisfy { (runs[$0]?["state"] as? String) == "succeeded" } }
        let byStart = ids.compactMap { done[$0] }.sorted { ($0["started_ns"] as? Int ?? 0) < ($1["started_ns"] as? Int ?? 0) }
        let firstEnd = byStart.prefix(2).compactMap { $0["ended_ns"] as? Int }.min() ?? .max
        #expect((byStart.last?["started_ns"] as? Int ?? 0) >= firstEnd, "the queued run started only after a slot was free")
        let after = try MetricsText(String(decoding: daemon.request("GET", "/metrics").body, as: UTF8.self))
        #expect(after.value("warden_invocations_total{outcome=\"succeeded\"}") == 3)
        #expect(after.value("warden_queue_wait_seconds_count") == 3)
    }

    @Test("stop ends a running run (stopped, 137, its trace verifies) and a queued one (it never starts)")
    func stopRunningAndQueued() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "gated", script: TestAgents.gated("never", then: "true"), gate: gate)
        #expect(try daemon.deploy(spec, concurrency: 1).status == 201)
        let first = try #require((try daemon.json("POST", "/v1/agents/gated/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        let second = try #require((try daemon.json("POST", "/v1/agents/gated/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        _ = try daemon.waitForRuns { ($0[first]?["state"] as? String) == "running" }
        let queued = try daemon.json("POST", "/v1/runs/\(second)/stop")
        #expect(queued.status == 200)
        #expect((queued.object["run"] as? [String: Any])?["state"] as? String == "stopped")
        #expect((queued.object["run"] as? [String: Any])?["started_ns"] is NSNull)
        let killed = try daemon.json("POST", "/v1/runs/\(first)/kill")
        let run = try #require(killed.object["run"] as? [String: Any])
        #expect(run["state"] as? String == "stopped")
        #expect(run["exit_status"] as? Int == 137)
        #expect(try daemon.json("POST", "/v1/runs/\(first)/stop").status == 409, "an ended run cannot be stopped again")
        let verify = try WardenTool.run(["trace", "verify", first], environment: daemon.environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("stop sends SIGTERM first: an agent that handles it exits cleanly (and the run is still `stopped`)")
    func gracefulStop() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "polite",
                                       script: "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.02; done")
        #expect(try daemon.deploy(spec).status == 201)
        let id = try #require((try daemon.json("POST", "/v1/agents/polite/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        let log = daemon.stateDirectory + "/logs/\(id).stdout"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").isEmpty { usleep(10_000) }
        let stopped = try daemon.json("POST", "/v1/runs/\(id)/stop?grace=120")
        let run = try #require(stopped.object["run"] as? [String: Any])
        #expect(run["state"] as? String == "stopped")
        #expect(run["exit_status"] as? Int == 0, "it exited by itself on SIGTERM, before the grace ran out")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "up\nbye\n")
    }

    @Test("logs ?follow=true streams until the run ends")
    func followLogs() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "talker", script: "echo first; " + TestAgents.gated("go", then: "echo second"), gate: gate)
        #expect(try daemon.deploy(spec).status == 201)
        let id = try #require((try daemon.json("POST", "/v1/agents/talker/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        _ = try daemon.waitForRuns { ($0[id]?["state"] as? String) == "running" }
        // Open the gate from another thread once the follower has seen the first line.
        let opener = DispatchQueue(label: "opener")
        opener.async {
            let log = daemon.stateDirectory + "/logs/\(id).stdout"
            while ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").isEmpty { usleep(10_000) }
            FileManager.default.createFile(atPath: gate.appendingPathComponent("go").path, contents: nil)
        }
        let (status, body) = try daemon.request("GET", "/v1/runs/\(id)/logs?follow=true")
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self) == "first\nsecond\n")
        #expect((try daemon.runs()[id]?["state"] as? String) == "succeeded")
    }

    @Test("the metrics text passes a strict exposition check")
    func metricsStrict() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        // mkdir under an audit rule: each run has one seccomp denial in its trace (see TraceRunTests).
        let spec = try TestAgents.spec(in: daemon.directory, name: "quick", script: "mkdir /workspace/x; echo hi") { policy in
            guard var seccomp = policy["seccomp"] as? [String: Any], var allow = seccomp["allow"] as? [String: Any] else { return }
            allow["files"] = (allow["files"] as? [String])?.filter { $0 != "mkdir" && $0 != "mkdirat" }
            seccomp["allow"] = allow
            seccomp["audit"] = [["errno": "EROFS", "syscalls": ["mkdir", "mkdirat"]]]
            policy["seccomp"] = seccomp
        }
        #expect(try daemon.deploy(spec).status == 201)
        for _ in 0..<2 { _ = try daemon.json("POST", "/v1/agents/quick/invocations?wait=true", body: Data()) }
        // Trace-derived counters are fed just after the caller is answered: wait for them.
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while Date() < deadline {
            text = String(decoding: try daemon.request("GET", "/metrics").body, as: UTF8.self)
            if (try MetricsText(text).value("warden_trace_records_total{type=\"run.end\"}")) == 2 { break }
            usleep(10_000)
        }
        let metrics = try MetricsText(text)
        #expect(metrics.value("warden_agents_deployed") == 1)
        #expect(metrics.value("warden_invocations_total{outcome=\"succeeded\"}") == 2)
        #expect(metrics.value("warden_launch_latency_seconds_count") == 2)
        #expect(metrics.value("warden_trace_records_total{type=\"run.end\"}") == 2)
        #expect(metrics.value("warden_seccomp_denials_total") == 2)
        #expect(metrics.value("warden_tool_calls_total{decision=\"allowed\"}") == 0)
        #expect(!text.contains("run-") && !text.contains("quick"), "no run ids or agent names as labels")
        try Self.expectTraceStoreFigures(metrics, daemon: daemon)
        // The same numbers in OpenMetrics form, parsed by prometheus_client's OpenMetrics parser.
        let open = try daemon.request("GET", "/metrics", headers: ["Accept: application/openmetrics-text; version=1.0.0"]).body
        let parser = """
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
            samples = {s.name + str(sorted(s.labels.items())): s.value for f in families.values() for s in f.samples}
            print(families["warden_invocations"].type, samples["warden_invocations_total[('outcome', 'succeeded')]"],
                  families["warden_queue_wait_seconds"].type, families["warden_trace_sync_seconds"].type,
                  families["warden_trace_appended_records"].type, samples["warden_trace_sync_seconds_count[('file', 'index')]"])
            """
        let parsed = try WardenTool.runProcess("/usr/bin/python3", ["-c", parser], input: String(decoding: open, as: UTF8.self))
        #expect(parsed.status == 0, "prometheus_client refused the OpenMetrics text: \(parsed.stderr)")
        #expect(parsed.stdout == "counter 2 histogram histogram counter 4\n", "\(parsed.stdout)")
    }

    /// The trace store's figures match the trace directory exactly: every record and byte of the two
    /// runs' files (past their headers), the host index's 2 opens and 2 closes with one sync each.
    static func expectTraceStoreFigures(_ metrics: MetricsText, daemon: TestDaemon) throws {
        let listed = try daemon.json("GET", "/v1/traces").object["traces"] as? [[String: Any]] ?? []
        #expect(listed.count == 2)
        let records = listed.reduce(0) { $0 + ($1["records"] as? Int ?? 0) }
        let bytes = try listed.reduce(0) { total, run in
            let path = daemon.traceDirectory + "/\(run["run"] as? String ?? "").trace"
            return total + ((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) - 16
        }
        #expect(records > 0)
        #expect(metrics.value("warden_trace_appended_records_total{file=\"run\"}") == Double(records))
        #expect(metrics.value("warden_trace_appended_bytes_total{file=\"run\"}") == Double(bytes))
        #expect(metrics.value("warden_trace_appended_records_total{file=\"index\"}") == 4)
        #expect(metrics.value("warden_trace_sync_seconds_count{file=\"index\"}") == 4)
        #expect((metrics.value("warden_trace_sync_seconds_count{file=\"run\"}") ?? 0) >= 2, "at least each run's closing barrier")
        #expect((metrics.value("warden_trace_sync_seconds_sum{file=\"run\"}") ?? 0) > 0)
        #expect(metrics.value("warden_trace_durability_failures_total{file=\"run\"}") == 0)
        #expect(metrics.types["warden_trace_sync_seconds"] == "histogram")
    }
}
