import HTTPServer
import HostOS
import Specs

/// The OpenAI-compatible surface for callers outside sandboxes (`warden serve-model`): the broker's
/// `/v1/chat/completions` and `/v1/models` under one endpoint (one API key, one policy), plus
/// `GET /metrics` (Prometheus text: the pool's queues, latencies, batch and KV figures) and
/// `GET /health`. Callers are queued fairly by their OpenAI `user` field.
public final class ModelServer: @unchecked Sendable {
    /// The endpoint every request is served as.
    public let endpoint: AgentEndpoint
    public let broker: Broker
    /// The port listened on (the one asked for, or the kernel's pick for 0).
    public let port: UInt16
    private let server: HTTPServer
    static let tag = 1

    /// Listens on `host:port` and serves `models` under `policy`, requiring `apiKey` as the bearer token.
    /// `metrics` renders the Prometheus text for `/metrics`.
    public init(models: ModelCatalog, policy: BrokerPolicy, apiKey: String, host: String, port: UInt16,
                workerThreads: Int = 64, metrics: @escaping @Sendable () -> String) throws(BrokerError) {
        do {
            endpoint = try AgentEndpoint(runID: "serve-model", token: apiKey, policy: policy, workspace: nil, trace: nil, fairnessByUser: true)
        } catch {
            throw BrokerError(.invalidRequest, "the policy's broker section is invalid: \(error)")
        }
        broker = Broker(models: models, workerThreads: workerThreads)
        broker.register(endpoint, listener: Self.tag)
        server = HTTPServer(handler: ModelServerHandler(broker: broker, metrics: metrics))
        do {
            let (fd, bound) = try HTTPServer.listenTCP(host: host, port: port)
            self.port = bound
            try server.addListener(fd, tag: Self.tag)
            try server.start()
        } catch {
            server.stop()
            throw BrokerError(.modelUnavailable, "cannot serve on \(host):\(port): \(error)")
        }
    }

    /// The policy `serve-model` uses without `--policy`: every served model with no per-request cap
    /// beyond the context, no tools, no rate limits or budget, 4096 calls at once.
    public static func openPolicy(models: [String]) -> BrokerPolicy {
        BrokerPolicy(models: models.map { .init(name: $0, maxTokensPerRequest: 1_000_000) }, maxConcurrent: 4096)
    }

    /// Stops listening and closes every connection; requests still generating are cancelled.
    public func stop() {
        server.stop()
        broker.unregister(listener: Self.tag)
        broker.models.cancelAll(agent: endpoint.runID)
    }
}

/// `/metrics` and `/health` here; everything else to the broker.
final class ModelServerHandler: HTTPHandler {
    let broker: Broker
    let metrics: @Sendable () -> String

    init(broker: Broker, metrics: @escaping @Sendable () -> String) { self.broker = broker; self.metrics = metrics }

    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        switch (request.method, request.path) {
        case ("GET", "/metrics"):
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "text/plain; version=0.0.4")]),
                                           body: Array(metrics().utf8)))
        case ("GET", "/health"):
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/json")]),
                                           body: Array(#"{"status":"ok"}"#.utf8)))
        default:
            broker.handle(request, connection: connection, responder: responder)
        }
    }
}
