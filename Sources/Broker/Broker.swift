import HostOS
import HTTPServer
import Specs

/// The broker's HTTP face: one `AgentEndpoint` per listener (one listener per running agent, inside
/// its network namespace), `/v1/*` to the OpenAI surface, `/mcp` to the MCP surface.
///
/// Cheap answers (errors, the model list) are given on the event loop; chat completions go to a
/// worker thread and answer through the responder from there. `/v1/*` is authenticated here;
/// `/mcp` requests go to the MCP surface as they are (it checks the same token and answers
/// in JSON-RPC's shape).
public final class Broker: HTTPHandler {
    public let models: ModelCatalog
    public let mcp: (any BrokerSurface)?
    private let workers: WorkerPool
    private let lock = ConditionLock()
    nonisolated(unsafe) private var endpoints: [Int: AgentEndpoint] = [:]

    /// A broker serving `models`, with `workerThreads` threads for generation.
    public init(models: ModelCatalog, mcp: (any BrokerSurface)? = nil, workerThreads: Int = 4) {
        self.models = models; self.mcp = mcp
        workers = WorkerPool(threads: workerThreads)
    }

    deinit { workers.shutdown() }

    /// Serves `endpoint` on the listener tagged `tag`.
    public func register(_ endpoint: AgentEndpoint, listener tag: Int) { lock.withLock { endpoints[tag] = endpoint } }

    /// Stops serving the listener tagged `tag` (its later requests get 404).
    public func unregister(listener tag: Int) { _ = lock.withLock { endpoints.removeValue(forKey: tag) } }

    public func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        guard let endpoint = lock.withLock({ endpoints[connection.listener] }) else {
            return responder.respond(BrokerError(.notFound, "no agent is served on this listener").httpResponse)
        }
        let path = request.path
        if path == "/mcp" || path.hasPrefix("/mcp/") {
            guard let mcp else { return responder.respond(BrokerError(.notFound, "this broker has no MCP surface").httpResponse) }
            return mcp.handle(request, endpoint: endpoint, responder: responder)
        }
        guard path.hasPrefix("/v1/") else {
            return responder.respond(BrokerError(.notFound, "unknown path \(path); the OpenAI API is under /v1").httpResponse)
        }
        if let refusal = Self.authenticate(request, endpoint: endpoint) { return responder.respond(refusal.httpResponse) }
        route(request, path: path, endpoint: endpoint, responder: responder)
    }

    private func route(_ request: HTTPRequest, path: Substring, endpoint: AgentEndpoint, responder: HTTPResponder) {
        switch path {
        case "/v1/chat/completions":
            guard request.method == "POST" else { return responder.respond(Self.methodNotAllowed(request, "POST").httpResponse) }
            let call = ChatCompletionCall(endpoint: endpoint, catalog: models, body: request.body, responder: responder)
            workers.submit { call.run() }
        case "/v1/models":
            guard request.method == "GET" else { return responder.respond(Self.methodNotAllowed(request, "GET").httpResponse) }
            responder.respond(ModelList.all(endpoint.policy))
        default:
            if path.hasPrefix("/v1/models/"), request.method == "GET" {
                return responder.respond(ModelList.one(String(path.dropFirst("/v1/models/".count)), endpoint.policy))
            }
            responder.respond(BrokerError(.notFound, "unknown path \(path)").httpResponse)
        }
    }

    static func methodNotAllowed(_ request: HTTPRequest, _ allowed: String) -> BrokerError {
        BrokerError(.methodNotAllowed, "\(request.method) is not allowed here; use \(allowed)")
    }

    /// Nil when the request carries the run's token (`Authorization: Bearer TOKEN`), else the refusal.
    static func authenticate(_ request: HTTPRequest, endpoint: AgentEndpoint) -> BrokerError? {
        guard endpoint.checksToken else { return nil }
        guard let header = request.headers["authorization"] else {
            return BrokerError(.unauthorized, "missing Authorization header; use the OPENAI_API_KEY this run was given")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), Array(endpoint.token.utf8)) else {
            return BrokerError(.unauthorized, "invalid API key; use the OPENAI_API_KEY this run was given")
        }
        return nil
    }

    /// Compares without an early exit on the first differing byte (no timing oracle for the token).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// `GET /v1/models`: only what the run's policy allows.
enum ModelList {
    static func entry(_ name: String) -> JSONValue {
        .object(JSONObject([("id", .string(name)), ("object", .string("model")), ("created", .number(JSONNumber(0))),
                            ("owned_by", .string("warden"))]))
    }

    static func all(_ policy: BrokerPolicy) -> HTTPResponse {
        let list = JSONObject([("object", .string("list")), ("data", .array(policy.models.map { entry($0.name) }))])
        return HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/json")]), body: JSONWriter.compactBytes(.object(list)))
    }

    static func one(_ name: String, _ policy: BrokerPolicy) -> HTTPResponse {
        guard policy.models.contains(where: { $0.name == name }) else {
            var error = BrokerError(.notFound, "the model \"\(name)\" does not exist or is not allowed for this run")
            error.param = "model"
            return error.httpResponse
        }
        return HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/json")]), body: JSONWriter.compactBytes(entry(name)))
    }
}
