import HTTPServer

/// A server side the load generator can run against, started in-process. To benchmark something
/// new (the broker's no-op tool call, a chat completion against an instant backend), add a mode
/// to `BenchMode.all`: a name, how to start it, and the request each call sends.
struct BenchMode: Sendable {
    let name: String
    let summary: String
    /// Starts the server; returns its loopback port and how to stop it.
    let start: @Sendable () throws -> (port: UInt16, stop: @Sendable () -> Void)
    /// The request every call sends (Host and Content-Length are added).
    let request: HTTPRequest
    /// When set, builds the request once the server runs (e.g. with a session the server issued).
    var prepare: (@Sendable (UInt16) throws -> HTTPRequest)? = nil

    static let all: [BenchMode] = [
        BenchMode(
            name: "raw-echo", summary: "minimal epoll loop, fixed response, no HTTP parsing (the floor)",
            start: {
                let server = try RawEchoServer()
                return (server.port, server.stop)
            },
            request: HTTPRequest(method: "GET", target: "/echo")
        ),
        BenchMode(
            name: "http-stream", summary: "HTTPServer answering with a 3-event SSE stream written from another thread",
            start: {
                let server = HTTPServer(handler: StreamHandler())
                let (fd, port) = try HTTPServer.listenLoopback()
                try server.addListener(fd, tag: 0)
                try server.start()
                return (port, server.stop)
            },
            request: HTTPRequest(method: "GET", target: "/stream")
        ),
        BenchMode(
            name: "http-echo", summary: "HTTPServer with a handler answering inline (parsing, framing, keep-alive)",
            start: {
                let server = HTTPServer(handler: EchoHandler())
                let (fd, port) = try HTTPServer.listenLoopback()
                try server.addListener(fd, tag: 0)
                try server.start()
                return (port, server.stop)
            },
            request: HTTPRequest(method: "GET", target: "/echo")
        ),
    ] + BrokerModes.all

    static func named(_ name: String) -> BenchMode? { all.first { $0.name == name } }
}

/// Answers "ok" (the raw baseline's body), or echoes a request body.
struct EchoHandler: HTTPHandler {
    static let ok: [UInt8] = Array("ok".utf8)

    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        responder.respond(HTTPResponse(status: 200, body: request.body.isEmpty ? Self.ok : request.body))
    }
}

/// Streams three server-sent events from a worker thread (the cross-thread path: eventfd wake-ups,
/// chunked framing), as a streamed chat completion would.
final class StreamHandler: HTTPHandler, @unchecked Sendable {
    private let queue = WorkQueue()

    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        queue.submit {
            responder.startEventStream()
            for index in 0..<3 { responder.send(ServerSentEvent(data: "{\"i\":\(index)}")) }
            responder.finish()
        }
    }
}
