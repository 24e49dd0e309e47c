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

    static func request(_ method: String, _ target: String, _ body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: method, target: target, headers: HTTPHeaders([("Authorization", "Bearer " + token),
                                                                          ("Content-Type", "application/json")]), body: body)
    }

    static let all: [BenchMode] = [
        BenchMode(name: "broker-chat", summary: "POST /v1/chat/completions, instant backend, JSON answer from a worker thread",
                  start: start, request: request("POST", "/v1/chat/completions", chatBody)),
        BenchMode(name: "broker-stream", summary: "the same, streamed as SSE with include_usage",
                  start: start, request: request("POST", "/v1/chat/completions", streamBody)),
        BenchMode(name: "broker-models", summary: "GET /v1/models, answered inline on the event loop",
                  start: start, request: request("GET", "/v1/models", [])),
    ]
}
