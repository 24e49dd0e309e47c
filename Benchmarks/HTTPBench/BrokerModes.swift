import Glibc
import Broker
import HTTPServer
import Specs

/// The broker's modes: a chat completion against the instant backend (no model work: what remains
/// is the broker: auth, request decoding, policy, guardrails, admission, the worker hand-off and the
/// OpenAI response), streamed and not, and the model list answered inline. Untraced.
enum BrokerModes {
    static let token = "bench-token"
    static let chatBody = Array(#"{"model":"warden-instant","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say ok."}],"max_tokens":16}"#.utf8)
    static let streamBody = Array(#"{"model":"warden-instant","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say ok."}],"max_tokens":16}"#.utf8)

    static func start() throws -> (port: UInt16, stop: @Sendable () -> Void) {
        let catalog = ModelCatalog([ModelCatalog.instantModelName: { () throws(BrokerError) -> any ModelProvider in InstantModelProvider(reply: "ok") }])
        let broker = Broker(models: catalog)
        let policy = BrokerPolicy(models: [.init(name: ModelCatalog.instantModelName, maxTokensPerRequest: 64)],
                                  rateLimits: .init(requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000), maxConcurrent: 4096)
        broker.register(try AgentEndpoint(runID: "bench", token: token, policy: policy, workspace: nil, trace: nil), listener: 0)
        let server = HTTPServer(handler: broker)
        let (fd, port) = try HTTPServer.listenLoopback()
        try server.addListener(fd, tag: 0)
        try server.start()
        return (port, server.stop)
    }

    /// A broker with the MCP surface and an `fs.list` tool over an empty workspace: the cheapest
    /// real tool call (admission, schema and policy checks, guardrails on arguments and result,
    /// one openat2 and a directory read).
    static func startWithTools() throws -> (port: UInt16, stop: @Sendable () -> Void) {
        guard let workspace = mkdtemp(strdup("/tmp/warden-bench-workspace-XXXXXX")).map({ String(cString: $0) }) else {
            throw BrokerError(.internalError, "cannot create a workspace for the benchmark")
        }
        let policy = BrokerPolicy(tools: [ToolRule(name: "fs.list")],
                                  rateLimits: .init(requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000), maxConcurrent: 4096)
        let surface = MCPSurface()
        surface.attach(ToolRegistry(policy: policy, environment: ToolEnvironment(workspace: workspace)), runID: "bench")
        let broker = Broker(models: ModelCatalog([:]), mcp: surface)
        broker.register(try AgentEndpoint(runID: "bench", token: token, policy: policy, workspace: workspace, trace: nil), listener: 0)
        let server = HTTPServer(handler: broker)
        let (fd, port) = try HTTPServer.listenLoopback()
        try server.addListener(fd, tag: 0)
        try server.start()
        return (port, { server.stop(); rmdir(workspace) })
    }

    /// Opens an MCP session and returns the `tools/call` request that uses it.
    static func toolCallRequest(port: UInt16) throws -> HTTPRequest {
        var headers = HTTPHeaders([("Authorization", "Bearer " + token), ("Content-Type", "application/json"),
                                   ("Accept", "application/json, text/event-stream")])
        let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"http-bench","version":"1"}}}"#
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: port)
        let reply = try connection.send(HTTPRequest(method: "POST", target: "/mcp", headers: headers, body: Array(initialize.utf8)))
        guard reply.status == 200, let session = reply.headers["MCP-Session-Id"] else {
            throw BrokerError(.internalError, "initialize answered \(reply.status) without a session")
        }
        headers.add("MCP-Session-Id", session)
        headers.add("MCP-Protocol-Version", "2025-11-25")
        let call = #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fs.list","arguments":{"path":"."}}}"#
        return HTTPRequest(method: "POST", target: "/mcp", headers: headers, body: Array(call.utf8))
    }

    static func request(_ method: String, _ target: String, _ body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: method, target: target, headers: HTTPHeaders([("Authorization", "Bearer " + token),
                                                                          ("Content-Type", "application/json")]), body: body)
    }

    static let all: [BenchMode] = [
        BenchMode(name: "broker-chat", summary: "POST /v1/chat/completions, instant backend, JSON answer from a worker thread",
                  start: start, request: request("POST", "/v1/chat/completions", chatBody)),
        BenchMode(name: "broker-stream", summary: "the same, streamed as SSE with include_usage",
                  start: start, request: request("POST", "/v1/chat/completions", streamBody)),
        BenchMode(name: "broker-tool", summary: "POST /mcp tools/call of fs.list on an empty workspace (a real no-op tool call)",
                  start: startWithTools, request: HTTPRequest(method: "POST", target: "/mcp"),
                  prepare: { port in try toolCallRequest(port: port) }),
        BenchMode(name: "broker-models", summary: "GET /v1/models, answered inline on the event loop",
                  start: start, request: request("GET", "/v1/models", [])),
    ]
}
