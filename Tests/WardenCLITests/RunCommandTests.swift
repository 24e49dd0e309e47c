import Foundation
import Testing
import TestSupport

/// `warden run SPEC` end to end with specs written by the tests next to their own code directory.
@Suite("warden run", .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct RunCommandTests {
    /// Writes `agent.sh` with `script` and a spec running it, returns the spec path.
    static func spec(in dir: URL, script: String, extra: String = "") throws -> URL {
        let code = dir.appendingPathComponent("code")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        try script.write(to: code.appendingPathComponent("agent.sh"), atomically: true, encoding: .utf8)
        let policy = SandboxScratch.defaultPolicy.path
        let text = """
            {
              "name": "test-agent",
              "description": "written by RunCommandTests",
              "policy": "\(policy)",
              "code": "code",
              "entrypoint": ["/bin/sh", "/agent/agent.sh"],
              "workingDirectory": "/workspace",
              "environment": {"PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"}\(extra)
            }
            """
        let url = dir.appendingPathComponent("agent.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("the example agent runs and exits 0")
    func hello() throws {
        let result = try WardenTool.run(["run", "AgentSpecs/hello.json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pid: 1"))
    }

    @Test("the agent's exit status passes through; its environment is exactly the spec's")
    func statusAndEnvironment() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let spec = try Self.spec(in: dir, script: "env | sort; exit 5\n")
        let result = try WardenTool.run(["run", spec.path])
        #expect(result.status == 5)
        #expect(result.stdout == "ONLY_THIS=yes\nPATH=/usr/bin:/bin\nPWD=/workspace\n")
    }

    @Test("the code directory is read-only at /agent")
    func codeReadOnly() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let spec = try Self.spec(in: dir, script: "echo x > /agent/new 2>/dev/null && echo wrote || echo refused\n")
        let result = try WardenTool.run(["run", spec.path])
        #expect(result.stdout == "refused\n")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("code/new").path))
    }

    @Test("the spec's timeout kills the agent: exit 124 and a message")
    func timeout() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let spec = try Self.spec(in: dir, script: "while :; do :; done\n", extra: ",\n  \"timeoutSeconds\": 0.5")
        let result = try WardenTool.run(["run", spec.path], timeout: 30)
        #expect(result.status == 124)
        #expect(result.stderr.contains("timeout"))
    }

    @Test("bad specs are exit 2 with file:line:column",
          arguments: ["{\n  \"name\": \"x\",\n  \"bogus\": 1\n}\n", "{\"name\": ", "[]"])
    func badSpec(text: String) throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let file = dir.appendingPathComponent("bad.json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try WardenTool.run(["run", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.range(of: #"bad\.json:\d+:\d+"#, options: .regularExpression) != nil, "\(result.stderr)")
    }

    @Test("usage errors: no spec, unknown option, missing file")
    func usage() throws {
        #expect(try WardenTool.run(["run"]).status == 2)
        #expect(try WardenTool.run(["run", "--frob", "x.json"]).status == 2)
        let missing = try WardenTool.run(["run", "/no/such/spec.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/spec.json"))
    }

    @Test("--json reports the run with the agent's output and the cgroup mode")
    func json() throws {
        let result = try WardenTool.run(["run", "--json", "AgentSpecs/hello.json"])
        #expect(result.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["exitCode"] as? Int == 0)
        #expect((report["stdout"] as? String)?.contains("Hello") == true)
        #expect(report["cgroupMode"] is String)
    }
}
