/// What the server calls for each request, and how the answer goes back.
///
/// `handle` is called on the server's event-loop thread: it must return quickly. Cheap answers
/// (errors, listings, no-op calls) respond inline; slow work (generation, tool processes) is handed
/// to another thread, which answers through the responder later. Exactly one of `respond` or
/// `startStream`…`finish` is used per request; the server writes responses of one keep-alive
/// connection in request order and does not read the next request until the current one is answered.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder)
}

/// Which listener and peer a request came through (the broker keys its per-agent state on `listener`).
public struct HTTPConnectionInfo: Sendable, Hashable {
    /// The tag given with the listening socket in `HTTPServer.addListener(_:tag:)`.
    public var listener: Int
    /// A number unique to the connection within the server's life.
    public var connection: UInt64

    public init(listener: Int, connection: UInt64) { self.listener = listener; self.connection = connection }
}

/// Answers one request; safe to use from any thread, once.
public protocol HTTPResponder: Sendable {
    /// Sends a complete response (Content-Length framing).
    func respond(_ response: HTTPResponse)
    /// Sends the status line and headers of a streamed response (chunked framing).
    func startStream(status: Int, headers: HTTPHeaders)
    /// Sends one chunk of a streamed response. Blocks the calling thread while too much is queued
    /// for the peer (backpressure); returns false once the peer is gone or timed out, after which
    /// the producer should stop (cancel the generation) and call `finish`.
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    /// Ends a streamed response.
    func finish()
    /// Whether the client has gone (closed its connection) since the request arrived: a handler doing
    /// long work for it (a generation) may stop. Without a connection to watch, false.
    var peerHasGone: Bool { get }
}

extension HTTPResponder {
    public var peerHasGone: Bool { false }
}
