import Dispatch
import HTTPServer
import Specs
import Synchronization

/// MCP over Streamable HTTP at `/mcp` (revisions 2025-06-18 and 2025-11-25): POST carries one
/// JSON-RPC message; `initialize` opens a session (`MCP-Session-Id`), DELETE ends it; there is no
/// server-to-client stream, so GET is 405. The 2026-07-28 probe `server/discover` gets -32601 with
/// HTTP 404, on which current SDKs fall back to `initialize`.
///
/// Cheap methods answer on the event loop; `tools/call` runs on a worker thread and answers later.
public final class MCPSurface: BrokerSurface {
    /// Protocol revisions spoken, latest first (offered when the client's is not among them).
    public static let supportedVersions = ["2025-11-25", "2025-06-18"]
    /// Open sessions per run before the oldest is dropped.
    public static let maximumSessionsPerRun = 32

    struct Session: Sendable {
        let runID: String
        let version: String
        let opened: UInt64
    }

    let sessions = Mutex<[String: Session]>([:])
    let registries = Mutex<[String: ToolRegistry]>([:])
    let workers = DispatchQueue(label: "warden.broker.tools", attributes: .concurrent)

    public init() {}

    /// Sets the tools of run `runID` (its MCP servers included); without this, a run gets the
    /// built-in tools its policy allows, set up on first use.
    public func attach(_ registry: ToolRegistry, runID: String) {
        registries.withLock { $0[runID] = registry }
    }

    /// Forgets run `runID`: its sessions end and its MCP servers are stopped.
    public func detach(runID: String) {
        let registry = registries.withLock { $0.removeValue(forKey: runID) }
        sessions.withLock { $0 = $0.filter { $0.value.runID != runID } }
        registry?.shutdown()
    }

    /// The run's registry, built from its policy and workspace the first time it is needed.
    func registry(for endpoint: AgentEndpoint) -> ToolRegistry {
        if let existing = registries.withLock({ $0[endpoint.runID] }) { return existing }
        let built = ToolRegistry(policy: endpoint.policy,
                                 environment: ToolEnvironment(workspace: endpoint.workspace, guardrails: endpoint.guardrails))
        return registries.withLock { table in
            if let raced = table[endpoint.runID] { return raced }
            table[endpoint.runID] = built
            return built
        }
    }

    public func handle(_ request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder) {
        guard Self.authenticated(request, token: endpoint.token) else {
            var headers = HTTPHeaders()
            headers.add("WWW-Authenticate", "Bearer")
            let body = JSONRPC.error(id: .null, code: JSONRPC.invalidRequest,
                                     message: "missing or invalid Authorization: send Bearer with the OPENAI_API_KEY this run was given")
            headers.add("Content-Type", "application/json")
            return responder.respond(HTTPResponse(status: 401, headers: headers, body: JSONWriter.compactBytes(body)))
        }
        if let origin = request.headers["origin"], !Self.isLoopbackOrigin(origin) {
            return MCPReply.error(responder, request, status: 403, id: .null, code: JSONRPC.invalidRequest,
                                  message: "origin \(origin) is not allowed")
        }
        switch request.method {
        case "POST": post(request, endpoint: endpoint, responder: responder)
        case "DELETE": delete(request, endpoint: endpoint, responder: responder)
        default:
            var headers = HTTPHeaders()
            headers.add("Allow", "POST, DELETE")
            responder.respond(HTTPResponse(status: 405, headers: headers))
        }
    }

    func post(_ request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder) {
        let value: JSONValue
        do { value = try JSONParser.parse(request.body) } catch {
            return MCPReply.error(responder, request, status: 400, id: .null, code: JSONRPC.parseError, message: "parse error: \(error.message)")
        }
        if case .array = value {
            return MCPReply.error(responder, request, status: 400, id: .null, code: JSONRPC.invalidRequest,
                                  message: "batches are not part of MCP \(Self.supportedVersions.joined(separator: " or ")); send one message per request")
        }
        let message: JSONRPC.Message
        switch JSONRPC.classify(value) {
        case .success(let classified): message = classified
        case .failure(let malformed):
            return MCPReply.error(responder, request, status: 400, id: malformed.id, code: JSONRPC.invalidRequest, message: malformed.message)
        }
        switch message {
        case .request(let id, "server/discover", _):
            MCPReply.error(responder, request, status: 404, id: id, code: JSONRPC.methodNotFound,
                           message: "server/discover is not supported; use initialize (\(Self.supportedVersions.joined(separator: ", ")))")
        case .request(let id, "initialize", let params):
            initialize(id: id, params: params, request: request, endpoint: endpoint, responder: responder)
        case .request(let id, let method, let params):
            guard checkSession(request, endpoint: endpoint, id: id, responder: responder) else { return }
            dispatch(id: id, method: method, params: params, request: request, endpoint: endpoint, responder: responder)
        case .notification, .response, .failure:
            guard checkSession(request, endpoint: endpoint, id: .null, responder: responder) else { return }
            responder.respond(HTTPResponse(status: 202))
        }
    }

    func delete(_ request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder) {
        guard checkSession(request, endpoint: endpoint, id: .null, responder: responder),
              let id = request.headers["mcp-session-id"] else { return }
        sessions.withLock { _ = $0.removeValue(forKey: id) }
        responder.respond(HTTPResponse(status: 200))
    }

    /// The session header names a live session of this run (404 if not, 400 if absent), and the
    /// version header, when sent, is one we speak (400 if not).
    func checkSession(_ request: HTTPRequest, endpoint: AgentEndpoint, id: JSONValue, responder: HTTPResponder) -> Bool {
        guard let sessionID = request.headers["mcp-session-id"] else {
            MCPReply.error(responder, request, status: 400, id: id, code: JSONRPC.invalidRequest,
                           message: "missing MCP-Session-Id header: send initialize first")
            return false
        }
        guard let session = sessions.withLock({ $0[sessionID] }), session.runID == endpoint.runID else {
            MCPReply.error(responder, request, status: 404, id: id, code: JSONRPC.invalidRequest,
                           message: "unknown or expired session; initialize again")
            return false
        }
        if let version = request.headers["mcp-protocol-version"], !Self.supportedVersions.contains(version) {
            MCPReply.error(responder, request, status: 400, id: id, code: JSONRPC.invalidRequest,
                           message: "unsupported MCP-Protocol-Version \(version) (supported: \(Self.supportedVersions.joined(separator: ", ")))")
            return false
        }
        return true
    }

    /// Whether the request carries the run's token (`Authorization: Bearer TOKEN`), compared
    /// without an early exit (no timing oracle).
    static func authenticated(_ request: HTTPRequest, token: String) -> Bool {
        guard let header = request.headers["authorization"], header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst(7)), expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in given.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }

    /// `http://localhost[:port]`, `http://127.0.0.1[:port]`, `http://[::1][:port]` (browsers send
    /// Origin; a page elsewhere must not drive the agent's tools: DNS rebinding).
    static func isLoopbackOrigin(_ origin: String) -> Bool {
        for base in ["http://localhost", "http://127.0.0.1", "http://[::1]"] where origin == base || origin.hasPrefix(base + ":") {
            return origin.dropFirst(base.count).allSatisfy { $0 == ":" || ($0.isASCII && $0.isNumber) }
        }
        return false
    }
}
