import Foundation
import Testing
import TestSupport

/// `warden deploy / invoke / ps / logs / stop` against a real `warden serve`.
@Suite("warden supervisor clients", .serialized)
struct SupervisorCLITests {
    @Test("with no daemon, each client fails with exit 1 naming the socket", arguments: [
        ["invoke", "hello", "--input", "x"], ["ps"], ["logs", "some-run"], ["stop", "some-run"], ["deploy", "AgentSpecs/hello.json"],
    ])
    func noDaemon(arguments: [String]) throws {
        let socket = "/tmp/warden-no-daemon-\(UUID().uuidString.prefix(8)).sock"
        let result = try WardenTool.run(arguments + ["--socket", socket], timeout: 30)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no supervisor answers on \(socket)"), "\(result.stderr)")
    }

    @Test("deploy, invoke (output and status pass through), ps, logs, stop", .enabled(if: getuid() == 0, "sandboxes need root here"))
    func clients() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let env = daemon.environment
        let deploy = try WardenTool.run(["deploy", "AgentSpecs/hello.json"], environment: env)
        #expect(deploy.status == 0, "\(deploy.stderr)")
        #expect(deploy.stdout.contains("deployed hello"))
        let hello = try WardenTool.run(["invoke", "hello", "--input", "hi"], environment: env)
        #expect(hello.status == 0, "\(hello.stderr)")
        #expect(hello.stdout.contains("Hello from a Warden sandbox"))

        let gate = daemon.directory.appendingPathComponent("gate")
        let spec = try TestAgents.spec(in: daemon.directory, name: "exiter",
                                       script: "cat; echo to-stderr >&2; " + TestAgents.gated("go", then: "exit 7"), gate: gate)
        #expect(try WardenTool.run(["deploy", spec], environment: env).status == 0)
        let id = try WardenTool.run(["invoke", "exiter", "--no-wait", "--input", "in"], environment: env).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!id.isEmpty)
        _ = try daemon.waitForRuns { ($0[id]?["state"] as? String) == "running" }
        let ps = try WardenTool.run(["ps", "--json"], environment: env)
        let listed = try JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [String: Any]
        #expect((listed?["runs"] as? [[String: Any]])?.contains { $0["id"] as? String == id && $0["state"] as? String == "running" } == true)
        let stopped = try WardenTool.run(["stop", "--kill", id], environment: env)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stdout == "\(id) stopped\n")
        let logs = try WardenTool.run(["logs", id], environment: env)
        #expect(logs.stdout == "in")
        #expect(try WardenTool.run(["logs", "--stderr", id], environment: env).stdout == "to-stderr\n")

        FileManager.default.createFile(atPath: gate.appendingPathComponent("go").path, contents: nil)
        let piped = try WardenTool.run(["invoke", "exiter"], input: "from stdin", environment: env)
        #expect(piped.status == 7, "the agent's status is the command's")
        #expect(piped.stdout == "from stdin")
        #expect(piped.stderr.contains("to-stderr"))
        let unknown = try WardenTool.run(["invoke", "nobody"], input: "", environment: env)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no agent named \"nobody\""))
    }
}
