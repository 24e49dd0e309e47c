import Foundation
import Testing
@testable import Broker
import HTTPServer
import Specs
import TestSupport

/// MCP over Streamable HTTP through a real HTTPServer on loopback: the JSON-RPC error table,
/// sessions, version negotiation, and tool calls.
@Suite struct MCPSurfaceTests {
    /// Routes every request to the MCP surface with one endpoint (what the broker's router does
    /// after authenticating).
    struct Route: HTTPHandler {
        let surface: MCPSurface
        let endpoint: AgentEndpoint
        func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
            surface.handle(request, endpoint: endpoint, responder: responder)
        }
    }

    /// A broker serving one run's MCP surface, with a scratch workspace.
    final class Broker: @unchecked Sendable {
        let server: HTTPServer
        let port: UInt16
        let surface = MCPSurface()
        let workspace: URL

        let endpoint: AgentEndpoint

        init(tools: [ToolRule] = [ToolRule(name: "fs.read"), ToolRule(name: "fs.write"), ToolRule(name: "fs.list")]) throws {
            workspace = try SandboxScratch.directory("warden-mcp")
            let endpoint = try AgentEndpoint(runID: "run-mcp-\(UUID().uuidString.prefix(6))", token: "secret",
                                             policy: BrokerPolicy(tools: tools), workspace: workspace.path, trace: nil)
            self.endpoint = endpoint
            server = HTTPServer(handler: Route(surface: surface, endpoint: endpoint))
            let (fd, port) = try HTTPServer.listenLoopback()
            self.port = port
            try server.addListener(fd, tag: 1)
            try server.start()
        }

        deinit { server.stop(); SandboxScratch.remove(workspace) }

        var url: String { "http://127.0.0.1:\(port)/mcp" }

        func send(_ body: String, method: String = "POST", headers: [(String, String)] = []) throws -> (status: Int, headers: HTTPHeaders, json: JSONValue?) {
            var fields = HTTPHeaders([("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"),
                                      ("Authorization", "Bearer secret")])
            for (name, value) in headers { fields.set(name, value) }
            let url = try HTTPURL(parsing: self.url)
            let response = try HTTPClient.fetch(url, method: method, headers: fields, body: Array(body.utf8), timeout: .seconds(30))
            return (response.status, response.headers, try? JSONParser.parse(response.body))
        }

        /// A session id from a fresh initialize.
        func session(version: String = "2025-11-25") throws -> String {
            let reply = try send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
            return try #require(reply.headers["mcp-session-id"])
        }
    }

    static func errorCode(_ json: JSONValue?) -> Int64? {
        guard case .object(let object)? = json, case .object(let error)? = object["error"], case .number(let code)? = error["code"] else { return nil }
        return code.int64
    }

    /// (name, body, HTTP status, JSON-RPC error code or nil) for requests without a session.
    static let sessionless: [(String, String, Int, Int64?)] = [
        ("invalid JSON", #"{"jsonrpc":"2.0","id":1,"#, 400, -32700),
        ("invalid UTF-8 escape", #"{"jsonrpc":"2.0","id":1,"method":"\ud800"}"#, 400, -32700),
        ("batch", #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, 400, -32600),
        ("not an object", #""ping""#, 400, -32600),
        ("wrong version", #"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, 400, -32600),
        ("null id", #"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, 400, -32600),
        ("fractional id", #"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, 400, -32600),
        ("method not a string", #"{"jsonrpc":"2.0","id":1,"method":5}"#, 400, -32600),
        ("params a number", #"{"jsonrpc":"2.0","id":1,"method":"ping","params":3}"#, 400, -32600),
        ("neither", #"{"jsonrpc":"2.0","id":1}"#, 400, -32600),
        ("server/discover probe", #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#, 404, -32601),
        ("initialize without version", #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#, 200, -32602),
        ("no session", #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, 400, -32600),
    ]

    @Test func errorsWithoutASession() throws {
        let broker = try Broker()
        for (name, body, status, code) in Self.sessionless {
            let reply = try broker.send(body)
            #expect(reply.status == status, "\(name): \(reply.status)")
            #expect(Self.errorCode(reply.json) == code, "\(name): \(String(describing: reply.json))")
        }
        let unknown = try broker.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, headers: [("MCP-Session-Id", "0123")])
        #expect(unknown.status == 404)
        #expect(try broker.send("", method: "GET").status == 405)
        let foreign = try broker.send(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: [("Origin", "http://evil.example")])
        #expect(foreign.status == 403)
        for key in ["Bearer wrong!", "Basic secret", "Bearer secre", "Bearer secrets"] {
            #expect(try broker.send(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: [("Authorization", key)]).status == 401, "\(key)")
        }
    }

    @Test func errorsInASession() throws {
        let broker = try Broker()
        let session = try broker.session()
        let headers = [("MCP-Session-Id", session), ("MCP-Protocol-Version", "2025-11-25")]
        let table: [(String, String, Int, Int64?)] = [
            ("unknown method", #"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#, 200, -32601),
            ("unknown tool", #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"shell.run","arguments":{}}}"#, 200, -32602),
            ("disallowed built-in", #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"code.exec","arguments":{}}}"#, 200, -32602),
            ("arguments not an object", #"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"fs.read","arguments":[1]}}"#, 200, -32602),
            ("no tool name", #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}"#, 200, -32602),
            ("ping", #"{"jsonrpc":"2.0","id":8,"method":"ping"}"#, 200, nil),
            ("notification", #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, 202, nil),
            ("a response from the client", #"{"jsonrpc":"2.0","id":9,"result":{}}"#, 202, nil),
        ]
        for (name, body, status, code) in table {
            let reply = try broker.send(body, headers: headers)
            #expect(reply.status == status, "\(name): \(reply.status)")
            #expect(Self.errorCode(reply.json) == code, "\(name): \(String(describing: reply.json))")
        }
        let badVersion = try broker.send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, headers: [("MCP-Session-Id", session), ("MCP-Protocol-Version", "1999-01-01")])
        #expect(badVersion.status == 400)
        #expect(try broker.send("", method: "DELETE", headers: [("MCP-Session-Id", session)]).status == 200)
        #expect(try broker.send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, headers: headers).status == 404)
    }

    @Test func versionsAreNegotiated() throws {
        let broker = try Broker()
        for (asked, answered) in [("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"), ("2024-11-05", "2025-11-25"), ("2026-07-28", "2025-11-25")] {
            let reply = try broker.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\#(asked)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
            guard case .object(let object)? = reply.json, case .object(let result)? = object["result"] else { Issue.record("\(asked): no result"); continue }
            #expect(result["protocolVersion"] == .string(answered), "\(asked)")
            #expect(reply.headers["mcp-session-id"]?.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } == true)
        }
    }

    @Test func toolsAreListedAndCalled() throws {
        let broker = try Broker(tools: [ToolRule(name: "fs.read"), ToolRule(name: "fs.write")])
        let headers = [("MCP-Session-Id", try broker.session())]
        let list = try broker.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, headers: headers)
        guard case .object(let object)? = list.json, case .object(let result)? = object["result"], case .array(let tools)? = result["tools"] else {
            Issue.record("no tools"); return
        }
        let names = tools.compactMap { tool -> String? in if case .object(let o) = tool, case .string(let n)? = o["name"] { n } else { nil } }
        #expect(names == ["fs.read", "fs.write"])
        if case .object(let read) = tools[0], case .object(let hints)? = read["annotations"] {
            #expect(hints["readOnlyHint"] == .bool(true) && hints["destructiveHint"] == .bool(false))
        } else { Issue.record("fs.read has no annotations") }
        _ = try broker.send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"fs.write","arguments":{"path":"a.txt","content":"x"}}}"#, headers: headers)
        let read = try broker.send(#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"a.txt"}}}"#, headers: headers)
        guard case .object(let answer)? = read.json, case .object(let call)? = answer["result"] else { Issue.record("no result"); return }
        #expect(call["isError"] == .bool(false) && call["structuredContent"] != nil)
        let rejected = try broker.send(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"a.txt","mode":"x"}}}"#, headers: headers)
        guard case .object(let refusal)? = rejected.json, case .object(let refused)? = refusal["result"] else { Issue.record("no result"); return }
        #expect(refused["isError"] == .bool(true))
        // A client that accepts only SSE gets one event.
        let sse = try broker.send(#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#, headers: headers + [("Accept", "text/event-stream")])
        #expect(sse.headers["content-type"] == "text/event-stream")
    }
}
