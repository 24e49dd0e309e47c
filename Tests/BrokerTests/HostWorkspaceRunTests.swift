import Foundation
import Testing
import TestSupport

/// `warden run` without --workspace: a broker offering fs.* gets a fresh host workspace (the
/// tools work from the host, where a tmpfs would be invisible), removed after the run whatever
/// happened; a broker without them keeps the tmpfs and makes nothing on the host.
@Suite("warden run: the host workspace of a broker with fs tools", .serialized)
struct HostWorkspaceRunTests {
    static var venvReady: Bool {
        FileManager.default.fileExists(atPath: WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/.venv/bin/python3").path)
    }

    /// The agent: calls the broker's fs tools with the official mcp client, one `RESULT` line each.
    static let client = """
        import asyncio, json, os
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        async def main():
            http = create_mcp_http_client(headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
            async with http, Client(streamable_http_client(os.environ["WARDEN_MCP_URL"], http_client=http)) as client:
                for step, name, arguments in [("shell", "fs.read", {"path": "shell.txt"}),
                                              ("link", "fs.read", {"path": "link-file"}),
                                              ("list", "fs.list", {})]:
                    result = await client.call_tool(name, arguments)
                    text = "\\n".join(getattr(block, "text", "") for block in result.content)
                    print("RESULT", step, json.dumps({"is_error": bool(result.is_error), "text": text}), flush=True)

        asyncio.run(main())
        """

    /// Writes a spec under `directory` for `entrypoint` with a broker offering `tools`; its code
    /// directory is the example agents' (a link beside the spec: code must lie under the spec's).
    static func spec(in directory: URL, entrypoint: [String], tools: [String]) throws -> String {
        let root = WardenTool.packageRoot
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("python"),
                                                   withDestinationURL: root.appendingPathComponent("AgentSpecs/python"))
        let spec: [String: Any] = [
            "name": "host-workspace",
            "policy": root.appendingPathComponent("Policies/default.json").path,
            "code": "python",
            "entrypoint": entrypoint,
            "workingDirectory": "/workspace",
            "environment": ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"],
            "timeoutSeconds": 60,
            "broker": ["tools": tools],
        ]
        let url = directory.appendingPathComponent("spec.json")
        try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted]).write(to: url)
        return url.path
    }

    static func run(_ spec: String, workspaces: URL) throws -> WardenTool.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_WORKSPACE_DIR"] = workspaces.path
        return try WardenTool.run(["run", "--no-trace", spec], timeout: 120, environment: environment)
    }

    static func entries(_ url: URL) -> [String]? { try? FileManager.default.contentsOfDirectory(atPath: url.path) }

    @Test("a file the agent writes with the shell is what the broker's fs.read returns; the workspace is gone after",
          .enabled(if: venvReady, "run Scripts/agent-venv"))
    func sharedWithTheTools() throws {
        let scratch = try SandboxScratch.directory("host-ws-run")
        defer { SandboxScratch.remove(scratch) }
        let outside = scratch.appendingPathComponent("precious.txt")
        try "keep me".write(to: outside, atomically: false, encoding: .utf8)
        let workspaces = scratch.appendingPathComponent("workspaces")
        let shell = "echo from the shell > /workspace/shell.txt && ln -s \"$1\" /workspace/link-file && exec /agent/.venv/bin/python3 -c \"$0\""
        let spec = try Self.spec(in: scratch, entrypoint: ["/bin/sh", "-c", shell, Self.client, outside.path],
                                 tools: ["fs.read", "fs.list"])
        let result = try Self.run(spec, workspaces: workspaces)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains("RESULT shell {\"is_error\": false, \"text\": \"from the shell\\n\"}"), "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("RESULT link {\"is_error\": true") }, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("RESULT list") && $0.contains("shell.txt") }, "\(result.stdout)")
        #expect(Self.entries(workspaces) == [], "the run's workspace was left behind")
        #expect(try String(contentsOf: outside, encoding: .utf8) == "keep me")
    }

    @Test("a run that cannot start leaves no workspace behind")
    func setupFailure() throws {
        let scratch = try SandboxScratch.directory("host-ws-run")
        defer { SandboxScratch.remove(scratch) }
        let workspaces = scratch.appendingPathComponent("workspaces")
        let spec = try Self.spec(in: scratch, entrypoint: ["/no/such/agent"], tools: ["fs.write"])
        let result = try Self.run(spec, workspaces: workspaces)
        #expect(result.status == 127, "\(result.stderr)")
        #expect(Self.entries(workspaces) == [], "the failed run's workspace was left behind")
    }

    @Test("a broker without fs tools keeps the tmpfs and makes nothing on the host")
    func noFileTools() throws {
        let scratch = try SandboxScratch.directory("host-ws-run")
        defer { SandboxScratch.remove(scratch) }
        let workspaces = scratch.appendingPathComponent("workspaces")
        let spec = try Self.spec(in: scratch, entrypoint: ["/bin/sh", "-c", "stat -f -c %T /workspace"], tools: ["http.fetch"])
        let result = try Self.run(spec, workspaces: workspaces)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "tmpfs\n")
        #expect(Self.entries(workspaces) == nil, "the parent directory was created for nothing")
    }
}
