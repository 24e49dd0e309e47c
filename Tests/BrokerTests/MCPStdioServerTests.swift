import Foundation
import Testing
@testable import Broker
import Sandbox
import Specs
import TestSupport

/// A spec's stdio MCP server (AgentSpecs/python/notes_server.py, written with the official `mcp`
/// SDK) launched in its own sandbox under the default policy, reached through the broker's tools.
@Suite(.serialized) struct MCPStdioServerTests {
    static let python = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python")
    static var venvReady: Bool { FileManager.default.isExecutableFile(atPath: python.appendingPathComponent(".venv/bin/python3").path) }

    static func startNotes() throws -> MCPServerConnection {
        let policy = try Policy.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/default.json").path)
        let config = MCPServerConfig(name: "notes", command: ["/agent/.venv/bin/python3", "/agent/notes_server.py"])
        return try MCPServerConnection.start(config, policy: policy, codeDirectory: python.path)
    }

    @Test(.enabled(if: venvReady, "needs AgentSpecs/python/.venv (Scripts/agent-venv)"))
    func theServerRunsSandboxedAndAnswers() throws {
        let server = try Self.startNotes()
        defer { server.stop() }
        #expect(server.tools.map(\.name).sorted() == ["add", "count", "list_notes"])
        let added = server.call("add", arguments: ["text": .string("buy milk")], timeoutMilliseconds: 10_000)
        #expect(!added.isError && added.text == "note 1 added", "\(added.text)")
        let count = server.call("count", arguments: [:], timeoutMilliseconds: 10_000)
        #expect(count.text == "1" && count.structured?["result"] == .number(JSONNumber(1)), "\(count.text)")
        let wrong = server.call("add", arguments: ["text": .number(JSONNumber(3))], timeoutMilliseconds: 10_000)
        #expect(wrong.isError, "\(wrong.text)")
        let missing = server.call("nope", arguments: [:], timeoutMilliseconds: 10_000)
        #expect(missing.isError, "\(missing.text)")
    }

    @Test(.enabled(if: venvReady, "needs AgentSpecs/python/.venv (Scripts/agent-venv)"))
    func stoppingKillsTheSandbox() throws {
        let server = try Self.startNotes()
        server.stop()
        let after = server.call("count", arguments: [:], timeoutMilliseconds: 5_000)
        #expect(after.isError && after.text.contains("gone"), "\(after.text)")
    }

    @Test func aServerThatIsNoMCPServerFailsToStart() throws {
        let policy = try Policy.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/default.json").path)
        let silent = MCPServerConfig(name: "mute", command: ["/bin/sh", "-c", "echo not json; sleep 30"])
        #expect(throws: MCPServerError.self) { try MCPServerConnection.start(silent, policy: policy, codeDirectory: nil, timeoutMilliseconds: 1500) }
        let missing = MCPServerConfig(name: "ghost", command: ["/no/such/binary"])
        #expect(throws: MCPServerError.self) { try MCPServerConnection.start(missing, policy: policy, codeDirectory: nil, timeoutMilliseconds: 5000) }
    }

    /// A line longer than the channel's bound (8 MiB), here a well-formed 9 MB answer, is dropped
    /// whole and the next line is read normally: a hostile server can neither grow the broker's
    /// memory without bound nor desynchronize it.
    @Test func anOverlongLineIsDroppedAndTheStreamResyncs() throws {
        let policy = try Policy.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/default.json").path)
        let script = """
            read l; printf '{"jsonrpc":"2.0","id":1,"result":{}}\\n'; read l; read l
            printf '{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"big","inputSchema":{"type":"object"}}]}}\\n'
            read l; printf '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"'
            head -c 9000000 /dev/zero | tr '\\0' x
            printf '"}]}}\\n{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"after"}]}}\\n'; sleep 30
            """
        let server = try MCPServerConnection.start(MCPServerConfig(name: "big", command: ["/bin/sh", "-c", script]),
                                                   policy: policy, codeDirectory: nil)
        defer { server.stop() }
        #expect(server.tools.map(\.name) == ["big"])
        let result = server.call("big", arguments: [:], timeoutMilliseconds: 20_000)
        #expect(!result.isError && result.text == "after", "\(result.text.prefix(200))")
    }

    /// Through the registry and the invocation pipeline: only the tools the policy names are
    /// offered, and the rule's argument schema rejects what the server itself would accept.
    @Test(.enabled(if: venvReady, "needs AgentSpecs/python/.venv (Scripts/agent-venv)"))
    func serverToolsGoThroughPolicy() throws {
        let server = try Self.startNotes()
        let schema = try #require(ArgumentSchema.parse(#"{"properties": {"text": {"type": "string", "maxLength": 10}}}"#))
        let policy = BrokerPolicy(tools: [ToolRule(name: "notes.add", arguments: schema), ToolRule(name: "notes.count")])
        let registry = ToolRegistry(policy: policy, environment: ToolEnvironment(servers: [server]))
        defer { registry.shutdown() }
        #expect(registry.descriptors.map(\.name).sorted() == ["notes.add", "notes.count"])
        let endpoint = try AgentEndpoint(runID: "run-mcp-stdio", token: "t", policy: policy, workspace: nil, trace: nil)
        let long = ToolInvocation.run("notes.add", arguments: ["text": .string("far too long a note")], callID: "1", registry: registry, endpoint: endpoint)
        let rejected = try long.get()
        #expect(rejected.isError && rejected.denied && rejected.text.contains("$.text: must be at most 10"), "\(rejected.text)")
        let ok = try ToolInvocation.run("notes.add", arguments: ["text": .string("short")], callID: "2", registry: registry, endpoint: endpoint).get()
        #expect(!ok.isError && ok.text == "note 1 added")
        #expect(throws: ToolInvocation.UnknownTool.self) {
            try ToolInvocation.run("notes.list_notes", arguments: [:], callID: "3", registry: registry, endpoint: endpoint).get()
        }
    }
}
