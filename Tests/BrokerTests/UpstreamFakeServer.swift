import Foundation
import HTTPServer
import Specs
@testable import Broker

/// A loopback server that behaves like an OpenAI-compatible model server (vLLM, llama.cpp's
/// server), built on the repo's HTTPServer over a real socket. Each request to
/// `/v1/chat/completions` gets the next behaviour of its script (the last one repeats).
final class FakeOpenAIServer: HTTPHandler, @unchecked Sendable {
    enum Behaviour: Sendable {
        /// A normal streamed answer: one event per piece, `delayMs` apart, then the finish reason,
        /// the usage chunk (when given) and `[DONE]`.
        case answer([String], usage: (prompt: Int, completion: Int)? = (11, 7), finish: String = "stop", delayMs: Int = 0)
        /// A whole (non-streamed) JSON answer, as from a server that ignores `stream`.
        case whole(String)
        /// An error status with an OpenAI error body and extra headers.
        case status(Int, message: String, headers: [(String, String)] = [])
        /// The head and `pieces`, then silence until the test ends (a stall mid-stream; none: before any event).
        case stall([String])
        /// The pieces and the finish reason, then silence instead of usage and `[DONE]`.
        case finishThenStall([String])
        /// No answer at all until the test ends (a stall before the head).
        case silent
        /// The head and `pieces`, then the connection closes (a drop; none: right after the head).
        case drop([String])
        /// The listener and its connections close at once (a drop before any byte of the answer).
        case closeListener
        /// A 200 event stream whose data is not JSON.
        case garbage(String)
        /// A piece every `everyMs` until the peer goes away (the test cancels).
        case endless(everyMs: Int)
    }

    let server: HTTPServer
    let port: UInt16
    private let forward = Forward()
    let tag = 9
    private let lock = NSCondition()
    private var script: [Behaviour]
    private var _requests: [HTTPRequest] = []
    private var _peerGone = 0
    private var released = false

    init(_ script: [Behaviour]) throws {
        self.script = script
        let (fd, port) = try HTTPServer.listenLoopback()
        self.port = port
        server = HTTPServer(handler: forward, limits: .init())
        forward.target = self
        try server.addListener(fd, tag: tag)
        try server.start()
    }

    /// The handler the server holds (the fake holds the server: no cycle).
    final class Forward: HTTPHandler, @unchecked Sendable {
        weak var target: FakeOpenAIServer?
        func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
            target?.handle(request, connection: connection, responder: responder)
        }
    }

    var url: String { "http://127.0.0.1:\(port)/v1" }
    /// Requests received, in order.
    var requests: [HTTPRequest] { lock.withLock { _requests } }
    var requestCount: Int { requests.count }
    /// Streams whose peer went away while the fake was still writing.
    var peerGone: Int { lock.withLock { _peerGone } }

    /// Waits until `condition` holds (or 30 s pass); the result says which.
    func wait(until condition: (FakeOpenAIServer) -> Bool) -> Bool {
        let end = Date().addingTimeInterval(30)
        while !condition(self) {
            if Date() > end { return false }
            lock.lock(); _ = lock.wait(until: Date().addingTimeInterval(0.02)); lock.unlock()
        }
        return true
    }

    /// Releases stalled answers and stops the server.
    func stop() {
        lock.withLock { released = true; lock.broadcast() }
        server.stop()
    }

    deinit { stop() }

    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        guard request.method == "POST", request.path == "/v1/chat/completions" else {
            return responder.respond(HTTPResponse(status: 404, body: Array(#"{"error":{"message":"no route"}}"#.utf8)))
        }
        let behaviour: Behaviour = lock.withLock {
            _requests.append(request)
            return script[min(_requests.count - 1, script.count - 1)]
        }
        Thread.detachNewThread { [self] in play(behaviour, responder: responder) }
    }

    private func play(_ behaviour: Behaviour, responder: HTTPResponder) {
        switch behaviour {
        case .answer(let pieces, let usage, let finish, let delay):
            responder.startEventStream()
            for piece in pieces {
                if delay > 0 { Thread.sleep(forTimeInterval: Double(delay) / 1000) }
                responder.send(ServerSentEvent(data: Self.chunk(content: piece)))
            }
            responder.send(ServerSentEvent(data: Self.chunk(content: nil, finish: finish)))
            if let usage {
                responder.send(ServerSentEvent(data: #"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":\#(usage.prompt),"completion_tokens":\#(usage.completion),"total_tokens":\#(usage.prompt + usage.completion)}}"#))
            }
            responder.send(ServerSentEvent(data: "[DONE]"))
            responder.finish()
        case .whole(let text):
            let body = #"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"\#(text)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array(body.utf8)))
        case .status(let status, let message, let extra):
            var headers = HTTPHeaders([("Content-Type", "application/json")])
            for (name, value) in extra { headers.add(name, value) }
            let body = #"{"error":{"message":"\#(message)","type":"server_error","code":null}}"#
            responder.respond(HTTPResponse(status: status, headers: headers, body: Array(body.utf8)))
        case .stall(let pieces):
            responder.startEventStream()
            for piece in pieces { responder.send(ServerSentEvent(data: Self.chunk(content: piece))) }
            holdUntilReleased()
            responder.finish()
        case .finishThenStall(let pieces):
            responder.startEventStream()
            for piece in pieces { responder.send(ServerSentEvent(data: Self.chunk(content: piece))) }
            responder.send(ServerSentEvent(data: Self.chunk(content: nil, finish: "stop")))
            holdUntilReleased()
            responder.finish()
        case .silent:
            holdUntilReleased()
            responder.respond(HTTPResponse(status: 500))
        case .drop(let pieces):
            responder.startEventStream()
            for piece in pieces { responder.send(ServerSentEvent(data: Self.chunk(content: piece))) }
            // Returning without `finish` abandons the stream: the server closes the connection.
        case .closeListener:
            server.removeListener(tag: tag)
        case .garbage(let text):
            responder.startEventStream()
            responder.send(ServerSentEvent(data: text))
            responder.finish()
        case .endless(let every):
            responder.startEventStream()
            for index in 0..<3000 {
                if !responder.send(ServerSentEvent(data: Self.chunk(content: "tick\(index) "))) {
                    lock.withLock { _peerGone += 1; lock.broadcast() }
                    break
                }
                Thread.sleep(forTimeInterval: Double(every) / 1000)
            }
            responder.finish()
        }
    }

    private func holdUntilReleased() {
        let end = Date().addingTimeInterval(60)
        lock.lock()
        while !released && Date() < end { _ = lock.wait(until: end) }
        lock.unlock()
    }

    static func chunk(content: String?, finish: String? = nil) -> String {
        var delta = JSONObject()
        if let content { delta["content"] = .string(content) }
        let choice = JSONObject([("index", .number(JSONNumber(0))), ("delta", .object(delta)),
                                 ("finish_reason", finish.map { .string($0) } ?? .null)])
        return JSONWriter.compact(.object(JSONObject([("id", .string("c")), ("object", .string("chat.completion.chunk")),
                                                      ("choices", .array([.object(choice)]))])))
    }
}

/// Helpers to configure upstream providers against fakes.
enum UpstreamFixture {
    /// A port where nothing listens (bound, then closed).
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try HTTPServer.listenLoopback()
        close(fd.rawValue)
        return port
    }

    /// One endpoint's JSON, with short timings so failing tests end quickly.
    static func endpoint(_ url: String, retries: Int = 2, model: String? = "upstream-id", timeouts: [String: Int] = [:],
                         extra: String = "") -> String {
        var fields = [#""url": "\#(url)""#, #""retries": \#(retries)"#, #""backoffMs": 1"#, #""maxBackoffMs": 4"#]
        if let model { fields.append(#""model": "\#(model)""#) }
        let all = ["connectMs": 5000, "firstByteMs": 10000, "idleMs": 10000, "totalMs": 30000].merging(timeouts) { $1 }
        fields.append(#""timeouts": {"# + all.sorted { $0.key < $1.key }.map { #""\#($0.key)": \#($0.value)"# }.joined(separator: ", ") + "}")
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// The provider for model "remote" over `endpoints` (JSON texts).
    static func provider(_ endpoints: [String], environment: @escaping (String) -> String? = { _ in nil }) throws -> UpstreamModelProvider {
        let text = #"{"models": {"remote": {"endpoints": [\#(endpoints.joined(separator: ", "))]}}}"#
        let serving = try ModelServing.parse(text, file: "serving.json")
        guard let model = serving.model(named: "remote") else { throw BrokerError(.internalError, "no model") }
        return try UpstreamModelProvider(model, environment: environment)
    }
}
