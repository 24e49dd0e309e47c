import Foundation
import Testing
@testable import Broker
import Specs
import TestSupport

/// The official `mcp` Python client (AgentSpecs/python/mcp_agent.py, mcp 2.3.0) against the broker
/// from the host: it probes server/discover, falls back to initialize, lists tools, calls them,
/// and sees an argument rejection as `is_error` and an unknown tool as MCPError(-32602).
@Suite struct MCPPythonClientTests {
    static let python = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/.venv/bin/python3").path
    static var venvReady: Bool { FileManager.default.isExecutableFile(atPath: python) }

    /// RESULT lines by step.
    static func results(_ output: String) -> [String: [String: Any]] {
        var steps: [String: [String: Any]] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let object = try? JSONSerialization.jsonObject(with: Data(parts[2].utf8)) as? [String: Any] else { continue }
            steps[parts[1]] = object
        }
        return steps
    }

    @Test(.enabled(if: venvReady, "needs AgentSpecs/python/.venv (Scripts/agent-venv)"))
    func theOfficialClientListsCallsAndIsRefused() throws {
        let broker = try MCPSurfaceTests.Broker(tools: [ToolRule(name: "fs.read"), ToolRule(name: "fs.write"), ToolRule(name: "code.exec")])
        let script = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/mcp_agent.py").path
        let run = try WardenTool.runProcess(Self.python, [script], timeout: 120,
                                            environment: ["WARDEN_MCP_URL": broker.url, "OPENAI_API_KEY": "secret", "PATH": "/usr/bin:/bin"])
        let steps = Self.results(run.stdout)
        #expect(run.status == 0 && !run.timedOut, "\(run.stdout)\n\(run.stderr.suffix(3000))")
        #expect(steps["list"]?["tools"] as? [String] == ["code.exec", "fs.read", "fs.write"])
        #expect(steps["read"]?["text"] as? String == "written through MCP")
        #expect(steps["escape"]?["is_error"] as? Bool == true)
        #expect((steps["reject"]?["text"] as? String)?.contains("$.path: expected string") == true, "\(steps["reject"] ?? [:])")
        #expect((steps["exec"]?["text"] as? String)?.hasPrefix("45\n") == true)
        #expect(steps["unknown"]?["error"] as? Int == -32602)
        #expect(steps["done"]?["ok"] as? Bool == true)
        let written = try String(contentsOf: broker.workspace.appendingPathComponent("hello.txt"), encoding: .utf8)
        #expect(written == "written through MCP")
    }

    /// The run integration's path: the spec's MCP server started in its sandbox by `MCPRunTools`,
    /// its tools offered under the policy next to the built-ins, called by the official client.
    @Test(.enabled(if: venvReady, "needs AgentSpecs/python/.venv (Scripts/agent-venv)"))
    func serverToolsReachTheOfficialClient() throws {
        let tools = [ToolRule(name: "fs.list"), ToolRule(name: "notes.add"), ToolRule(name: "notes.count")]
        let broker = try MCPSurfaceTests.Broker(tools: tools)
        let serverPolicy = try Policy.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/default.json").path)
        let notes = MCPServerConfig(name: "notes", command: ["/agent/.venv/bin/python3", "/agent/notes_server.py"])
        let run = try MCPRunTools.start(surface: broker.surface, runID: broker.endpoint.runID, policy: broker.endpoint.policy,
                                        workspace: broker.workspace.path, servers: [notes], serverPolicy: serverPolicy,
                                        codeDirectory: WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python").path)
        defer { run.stop() }
        let script = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/mcp_agent.py").path
        let result = try WardenTool.runProcess(Self.python, [script], timeout: 120,
                                               environment: ["WARDEN_MCP_URL": broker.url, "OPENAI_API_KEY": "secret", "PATH": "/usr/bin:/bin"])
        let steps = Self.results(result.stdout)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr.suffix(3000))")
        #expect(steps["list"]?["tools"] as? [String] == ["fs.list", "notes.add", "notes.count"])
        #expect(steps["notes"]?["text"] as? String == "note 1 added")
        let count = run.registry.entry(named: "notes.count").map { $0.tool.call([:], rule: $0.rule) }
        #expect(count?.text == "1")
    }
}
