import Foundation
import Glibc
import HostOS
@testable import HTTPServer

/// The handler the tests talk to. Routes by path:
/// - `/echo`: the request body back, with the method and body length in headers.
/// - `/later`: answers from another thread.
/// - `/stream?n=K`: K chunked pieces "piece i\n" written from another thread.
/// - `/sse?n=K`: K server-sent events, then `event: done`.
/// - `/big?mb=M`: M MiB streamed in 64 KiB writes from another thread; the write results are kept.
/// - `/watch`: answers nothing until the client goes away (`peerHasGone`, polled for 20 s), then counts it.
final class TestHandler: HTTPHandler, @unchecked Sendable {
    let lock = NSLock()
    private var _writeFailures = 0
    private var _streamsDone = 0
    var writeFailures: Int { lock.withLock { _writeFailures } }
    var streamsDone: Int { lock.withLock { _streamsDone } }
    private var _peersGone = 0
    var peersGone: Int { lock.withLock { _peersGone } }

    func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        let query = Self.query(request.target)
        switch request.path {
        case "/echo":
            var headers = HTTPHeaders()
            headers.add("X-Method", request.method)
            headers.add("X-Body-Length", String(request.body.count))
            headers.add("X-Listener", String(connection.listener))
            responder.respond(HTTPResponse(status: 200, headers: headers, body: request.body))
        case "/later":
            Thread.detachNewThread { responder.respond(HTTPResponse(status: 202, body: Array("later".utf8))) }
        case "/stream":
            let count = min(Int(query["n"] ?? "3") ?? 3, 1000)
            Thread.detachNewThread {
                responder.startStream(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]))
                for index in 0..<count { responder.write(Array("piece \(index)\n".utf8)) }
                responder.finish()
            }
        case "/sse":
            let count = min(Int(query["n"] ?? "3") ?? 3, 1000)
            Thread.detachNewThread {
                responder.startEventStream()
                for index in 0..<count { responder.send(ServerSentEvent(data: "{\"i\":\(index)}")) }
                responder.send(ServerSentEvent(data: "[DONE]", event: "done"))
                responder.finish()
            }
        case "/big":
            let megabytes = min(Int(query["mb"] ?? "1") ?? 1, 512)
            Thread.detachNewThread { [self] in
                responder.startStream(status: 200, headers: HTTPHeaders())
                let piece = [UInt8](repeating: 0x61, count: 64 * 1024)
                var failed = false
                for _ in 0..<(megabytes * 16) where !failed { failed = !responder.write(piece) }
                responder.finish()
                lock.withLock { if failed { _writeFailures += 1 }; _streamsDone += 1 }
            }
        case "/watch":
            Thread.detachNewThread { [self] in
                let deadline = Date().addingTimeInterval(20)
                while !responder.peerHasGone && Date() < deadline { usleep(2_000) }
                if responder.peerHasGone { lock.withLock { _peersGone += 1 } }
                responder.respond(HTTPResponse(status: 200))
            }
        default:
            responder.respond(HTTPResponse(status: 404, body: Array("no route\n".utf8)))
        }
    }

    static func query(_ target: String) -> [String: String] {
        guard let mark = target.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }
}

/// A started server on a loopback port, with its handler; `stop()` when done.
final class TestServer: Sendable {
    let server: HTTPServer
    let handler: TestHandler
    let port: UInt16

    init(limits: HTTPServer.Limits = .init(), tag: Int = 7) throws {
        handler = TestHandler()
        server = HTTPServer(handler: handler, limits: limits)
        let (fd, port) = try HTTPServer.listenLoopback()
        self.port = port
        try server.addListener(fd, tag: tag)
        try server.start()
    }

    func connect() throws -> HTTPClientConnection { try HTTPClientConnection(host: "127.0.0.1", port: port) }

    /// Sends raw bytes on a fresh connection and reads one response.
    func raw(_ text: String, method: String = "GET") throws -> HTTPResponse {
        let connection = try connect()
        defer { connection.close() }
        try connection.sendRaw(Array(text.utf8))
        return try connection.readResponse(method: method, timeout: .seconds(20))
    }

    func stop() { server.stop() }
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}
