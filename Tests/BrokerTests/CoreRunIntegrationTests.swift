import Foundation
import Testing
import TestSupport

/// `warden run` with a broker: the OpenAI and MCP surfaces, the spec's MCP server in its own
/// sandbox, the run's workspace shared with the fs.* tools.
@Suite("warden run with a broker")
struct CoreRunIntegrationTests {
    static var venvReady: Bool {
        FileManager.default.fileExists(atPath: WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/.venv/bin/python3").path)
    }

    @Test("the MCP example agent: built-in tools on the workspace, the spec's notes server, refusals",
          .enabled(if: venvReady, "run Scripts/agent-venv"))
    func mcpAgent() throws {
        let workspace = try SandboxScratch.directory("mcp-run")
        defer { SandboxScratch.remove(workspace) }
        let result = try WardenTool.run(["run", "--workspace", workspace.path, "AgentSpecs/mcp-agent.json"], timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("RESULT list") && $0.contains("\"notes.add\"") && $0.contains("\"fs.write\"") })
        #expect(lines.contains { $0.hasPrefix("RESULT notes") && $0.contains("note 1 added") })
        #expect(lines.contains { $0.hasPrefix("RESULT escape") && $0.contains("\"is_error\": true") })
        #expect(lines.contains { $0 == "RESULT done {\"ok\": true}" })
        let written = try String(contentsOf: workspace.appendingPathComponent("hello.txt"), encoding: .utf8)
        #expect(written == "written through MCP")
    }
}
