import Foundation
import Testing
import TestSupport

/// Serving replicas: long-lived sandboxes that answer invocations as JSON lines, scaled with the queue.
@Suite("supervisor serving replicas", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorServingTests {
    /// A replica in Python: answers `{"id", "output": INPUT upper-cased, "status"}` once /gate/go
    /// exists (when `gated`); input "fail" answers status 3; input "hang" never answers.
    static let server = """
        /usr/bin/python3 -c '
        import json, os, sys, time
        print("replica up", flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            while GATED and not os.path.exists("/gate/go"): time.sleep(0.02)
            text = request["input"]
            if text == "hang": time.sleep(3600)
            print(json.dumps({"id": request["id"], "output": text.upper(), "status": 3 if text == "fail" else 0}), flush=True)
        '
        """

    static func deploy(_ daemon: TestDaemon, gated: Bool, _ extra: [String: Any]) throws -> Int {
        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "upper",
                                       script: server.replacingOccurrences(of: "GATED", with: gated ? "True" : "False"), gate: gate)
        var body: [String: Any] = ["spec": spec, "serve": true, "restart": "on-failure"]
        for (key, value) in extra { body[key] = value }
        return try daemon.json("POST", "/v1/agents", body: try JSONSerialization.data(withJSONObject: body)).status
    }

    static func slots(_ daemon: TestDaemon) throws -> [[String: Any]] {
        let agents = try daemon.json("GET", "/v1/agents").object["agents"] as? [[String: Any]] ?? []
        return agents.first?["replicas"] as? [[String: Any]] ?? []
    }

    static func waitForSlots(_ daemon: TestDaemon, _ condition: ([[String: Any]]) -> Bool) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let slots = try slots(daemon)
            if condition(slots) { return slots }
            usleep(20_000)
        }
        throw DaemonError("the replicas never reached the expected state: \(try slots(daemon))")
    }

    @Test("one replica answers invocation after invocation, without a new sandbox each time")
    func answers() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        #expect(try Self.deploy(daemon, gated: false, ["replicas": 1]) == 201)
        var replicaRuns: Set<String> = []
        for (input, output, state, status) in [("hello", "HELLO", "succeeded", 0), ("again", "AGAIN", "succeeded", 0), ("fail", "FAIL", "failed", 3)] {
            let (code, answer) = try daemon.json("POST", "/v1/agents/upper/invocations?wait=true", body: Data(input.utf8))
            #expect(code == 200)
            #expect(answer["stdout"] as? String == output)
            let run = try #require(answer["run"] as? [String: Any])
            #expect(run["state"] as? String == state)
            #expect(run["exit_status"] as? Int == status)
            #expect(run["replica"] as? Int == 0)
            replicaRuns.insert(try Self.slots(daemon).first?["run"] as? String ?? "")
        }
        #expect(replicaRuns.count == 1, "the same replica sandbox served all three")
        #expect(try Self.slots(daemon).first?["restarts"] as? Int == 0)
        // The replica's trace holds each input (tagged with its invocation) next to its answers.
        let replicaRun = try #require(replicaRuns.first)
        let deadline = Date().addingTimeInterval(60)
        var inputs: [String] = []
        while Date() < deadline {
            let records = try daemon.json("GET", "/v1/traces/\(replicaRun)").object["records"] as? [[String: Any]] ?? []
            inputs = records.filter { $0["type"] as? String == "invocation.input" }.compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
            if inputs.count == 3 { break }
            usleep(20_000)
        }
        #expect(inputs == ["hello", "again", "fail"])
    }

    @Test("waiting invocations scale the replicas up to the maximum; idle ones are retired")
    func scaling() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        #expect(try Self.deploy(daemon, gated: true, ["replicas": 0, "maxReplicas": 2, "idleSeconds": 0.2]) == 201)
        var ids: [String] = []
        for index in 0..<3 {
            let (code, answer) = try daemon.json("POST", "/v1/agents/upper/invocations", body: Data("n\(index)".utf8))
            #expect(code == 202)
            ids.append(try #require((answer["run"] as? [String: Any])?["id"] as? String))
        }
        let busy = try Self.waitForSlots(daemon) { $0.filter { $0["state"] as? String == "serving" }.count == 2 }
        #expect(busy.count == 2, "never more than maxReplicas")
        #expect(try daemon.runs()[ids[2]]?["state"] as? String == "queued")
        FileManager.default.createFile(atPath: daemon.directory.appendingPathComponent("gate/go").path, contents: nil)
        let done = try daemon.waitForRuns { runs in ids.allSatisfy { runs[$0]?["state"] as? String == "succeeded" } }
        #expect(ids.enumerated().allSatisfy { index, id in (try? String(contentsOfFile: daemon.stateDirectory + "/logs/\(id).stdout", encoding: .utf8)) == "N\(index)" })
        #expect(Set(ids.compactMap { done[$0]?["replica"] as? Int }).count == 2)
        _ = try Self.waitForSlots(daemon) { $0.isEmpty }   // both scaled-up replicas retired when idle
    }

    @Test("an invocation past its deadline times out and its replica is replaced")
    func deadline() throws {
        let daemon = try TestDaemon(extra: "\"restartBackoffMilliseconds\": 5")
        defer { daemon.cleanUp() }
        try daemon.start()
        #expect(try Self.deploy(daemon, gated: false, ["replicas": 1]) == 201)
        let first = try Self.waitForSlots(daemon) { $0.first?["state"] as? String == "running" }
        let (code, answer) = try daemon.json("POST", "/v1/agents/upper/invocations?wait=true&deadline=0.3", body: Data("hang".utf8))
        #expect(code == 200)
        let run = try #require(answer["run"] as? [String: Any])
        #expect(run["state"] as? String == "timed_out")
        #expect(run["exit_status"] as? Int == 124)
        let replaced = try Self.waitForSlots(daemon) { $0.first?["restarts"] as? Int == 1 && $0.first?["state"] as? String == "running" }
        #expect(replaced.first?["run"] as? String != first.first?["run"] as? String)
        let (_, after) = try daemon.json("POST", "/v1/agents/upper/invocations?wait=true", body: Data("ok".utf8))
        #expect(after["stdout"] as? String == "OK")
        #expect(daemon.stop() == 0)
    }
}
