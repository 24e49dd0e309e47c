import Foundation
import Testing
import TestSupport

/// Long-lived replicas and their restart policies, crash-loop detection included.
@Suite("supervisor replicas", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorReplicaTests {
    /// The first replica slot of `agent` as the API lists it.
    static func slot(_ daemon: TestDaemon, _ agent: String) throws -> [String: Any] {
        let agents = try daemon.json("GET", "/v1/agents").object["agents"] as? [[String: Any]] ?? []
        let entry = agents.first { $0["name"] as? String == agent }
        return (entry?["replicas"] as? [[String: Any]])?.first ?? [:]
    }

    /// Waits until the slot satisfies `condition`.
    static func waitForSlot(_ daemon: TestDaemon, _ agent: String, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let slot = try slot(daemon, agent)
            if condition(slot) { return slot }
            usleep(20_000)
        }
        throw DaemonError("the replica never reached the expected state: \(try slot(daemon, agent))")
    }

    static func deploy(_ daemon: TestDaemon, _ spec: String, restart: String) throws -> Int {
        let body = try JSONSerialization.data(withJSONObject: ["spec": spec, "replicas": 1, "restart": restart] as [String: Any])
        return try daemon.json("POST", "/v1/agents", body: body).status
    }

    @Test("a crashing replica is restarted with backoff until the crash-loop limit, then left alone")
    func crashLoop() throws {
        let daemon = try TestDaemon(extra: "\"restartBackoffMilliseconds\": 5, \"crashLoopRestarts\": 3")
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "crasher", script: "echo oops >&2; exit 1")
        #expect(try Self.deploy(daemon, spec, restart: "on-failure") == 201)
        let slot = try Self.waitForSlot(daemon, "crasher") { $0["state"] as? String == "crash_loop" }
        #expect(slot["restarts"] as? Int == 3)
        #expect((slot["message"] as? String ?? "").contains("crash loop"))
        let runs = try daemon.runs().values.filter { $0["agent"] as? String == "crasher" }
        #expect(runs.count == 4, "the first run and three restarts")
        #expect(runs.allSatisfy { $0["state"] as? String == "failed" && $0["replica"] as? Int == 0 })
        let metrics = try MetricsText(String(decoding: daemon.request("GET", "/metrics").body, as: UTF8.self))
        #expect(metrics.value("warden_replicas_crash_looping") == 1)
        #expect(metrics.value("warden_replica_restarts_total") == 3)
    }

    @Test("the policy decides whether an ended replica restarts", arguments: [
        ("exit 0", "on-failure"), ("exit 1", "never"),
    ])
    func noRestart(script: String, restart: String) throws {
        let daemon = try TestDaemon(extra: "\"restartBackoffMilliseconds\": 5")
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "once", script: script)
        #expect(try Self.deploy(daemon, spec, restart: restart) == 201)
        let slot = try Self.waitForSlot(daemon, "once") { $0["state"] as? String == "exited" }
        #expect(slot["restarts"] as? Int == 0)
        #expect(try daemon.runs().values.filter { $0["agent"] as? String == "once" }.count == 1)
    }

    @Test("a killed replica is restarted; undeploy stops it; SIGTERM does not wait for replicas")
    func restartAfterKill() throws {
        let daemon = try TestDaemon(extra: "\"restartBackoffMilliseconds\": 5, \"graceSeconds\": 120")
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "server", script: TestAgents.gated("never", then: "true"), gate: gate)
        let other = try TestAgents.spec(in: daemon.directory, name: "keeper", script: TestAgents.gated("never", then: "true"), gate: gate)
        #expect(try Self.deploy(daemon, spec, restart: "always") == 201)
        #expect(try Self.deploy(daemon, other, restart: "always") == 201)
        let first = try Self.waitForSlot(daemon, "server") { $0["state"] as? String == "running" }
        let firstRun = try #require(first["run"] as? String)
        _ = try daemon.waitForRuns { $0[firstRun]?["state"] as? String == "running" }
        #expect(try daemon.json("POST", "/v1/runs/\(firstRun)/kill").status == 200)
        let second = try Self.waitForSlot(daemon, "server") { $0["state"] as? String == "running" && $0["run"] as? String != firstRun }
        #expect(second["restarts"] as? Int == 1)
        let secondRun = try #require(second["run"] as? String)
        #expect(try daemon.json("DELETE", "/v1/agents/server").status == 200)
        _ = try daemon.waitForRuns { $0[secondRun]?["state"] as? String == "stopped" }
        _ = try Self.waitForSlot(daemon, "keeper") { $0["state"] as? String == "running" }
        #expect(daemon.stop(signal: SIGTERM, timeout: 60) == 0, "replicas are stopped at once, not drained: \(daemon.log())")
    }
}
