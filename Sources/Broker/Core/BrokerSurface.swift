import HTTPServer

/// One protocol the broker speaks to agents (OpenAI, MCP), behind the broker's router, which has
/// already authenticated the request and found the agent's endpoint.
public protocol BrokerSurface: Sendable {
    func handle(_ request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder)
}
