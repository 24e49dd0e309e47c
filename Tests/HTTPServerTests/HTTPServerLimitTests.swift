import Foundation
import Glibc
import HostOS
import Testing
@testable import HTTPServer

/// Slow clients, slow readers and too many connections: each is cut off while others keep working.
@Suite struct HTTPServerLimitTests {
    @Test func slowlorisHeaderIsTimedOutWhileOthersAreServed() throws {
        var limits = HTTPServer.Limits()
        limits.headerTimeout = .milliseconds(300)
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let slow = try fixture.connect()
        try slow.sendRaw(Array("GET /echo HTTP/1.1\r\nHo".utf8))
        // Other clients get answers while the slow one dribbles.
        let other = try fixture.connect()
        for index in 0..<5 {
            try slow.sendRaw(Array("s".utf8))
            #expect(try other.send(HTTPRequest(method: "POST", target: "/echo", body: [UInt8(index)])).body == [UInt8(index)])
        }
        let response = try slow.readResponse(timeout: .seconds(30))
        #expect(response.status == 408)
        #expect(throws: HTTPServerError.self) { try slow.readResponse(timeout: .seconds(30)) }
        #expect(try other.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
    }

    @Test func slowBodyIsTimedOut() throws {
        var limits = HTTPServer.Limits()
        limits.bodyTimeout = .milliseconds(300)
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let response = try fixture.raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        #expect(response.status == 408)
    }

    @Test func idleKeepAliveConnectionIsClosedQuietly() throws {
        var limits = HTTPServer.Limits()
        limits.idleTimeout = .milliseconds(200)
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let connection = try fixture.connect()
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
        let error = #expect(throws: HTTPServerError.self) { try connection.readResponse(timeout: .seconds(30)) }
        #expect(error?.code == .connectionClosed)
    }

    @Test func slowReaderOfALargeStreamKeepsQueuedBytesBounded() throws {
        var limits = HTTPServer.Limits()
        limits.maxQueuedOutputBytes = 128 * 1024
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let stream = try connection.stream(HTTPRequest(method: "GET", target: "/big?mb=32"), timeout: .seconds(120), maxResponseBytes: 64 << 20)
        // Not reading for a while fills the socket buffers; the producer must block, not queue 32 MiB.
        Thread.sleep(forTimeInterval: 0.3)
        var total = 0
        var pieces = 0
        while let piece = try stream.next() {
            total += piece.count
            pieces += 1
            if pieces % 64 == 0 { Thread.sleep(forTimeInterval: 0.001) }
        }
        #expect(total == 32 << 20)
        let statistics = fixture.server.statistics
        // Queue plus the producer's pending bytes: at most the limit plus one write.
        #expect(statistics.maxQueuedBytes <= limits.maxQueuedOutputBytes + 64 * 1024 + 64)
        #expect(fixture.handler.writeFailures == 0)
    }

    @Test func peerThatNeverReadsIsCutOffAndTheProducerIsTold() throws {
        var limits = HTTPServer.Limits()
        limits.maxQueuedOutputBytes = 64 * 1024
        limits.writeStallTimeout = .milliseconds(300)
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let connection = try fixture.connect()
        try connection.sendRaw(Array("GET /big?mb=256 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        for _ in 0..<600 where fixture.handler.streamsDone == 0 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(fixture.handler.streamsDone == 1)
        #expect(fixture.handler.writeFailures == 1)
        #expect(fixture.server.statistics.maxQueuedBytes <= limits.maxQueuedOutputBytes + 64 * 1024 + 64)
        connection.close()
    }

    @Test func connectionsOverTheLimitGet503() throws {
        var limits = HTTPServer.Limits()
        limits.maxConnectionsPerListener = 2
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let first = try fixture.connect()
        let second = try fixture.connect()
        #expect(try first.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
        #expect(try second.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
        let third = try fixture.connect()
        #expect(try third.readResponse(timeout: .seconds(20)).status == 503)
        // Freeing a slot lets a new connection in (the close is noticed asynchronously).
        first.close()
        var status = 0
        for _ in 0..<200 where status != 200 {
            let next = try fixture.connect()
            status = (try? next.send(HTTPRequest(method: "GET", target: "/echo")))?.status ?? 0
            if status != 200 { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(status == 200)
    }

    @Test func removingAListenerClosesItsConnections() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let (fd, port) = try HTTPServer.listenLoopback()
        try fixture.server.addListener(fd, tag: 9)
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: port)
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/echo")).headers["x-listener"] == "9")
        fixture.server.removeListener(tag: 9)
        #expect(throws: HTTPServerError.self) { try connection.readResponse(timeout: .seconds(20)) }
        // The other listener still serves.
        let other = try fixture.connect()
        #expect(try other.send(HTTPRequest(method: "GET", target: "/echo")).headers["x-listener"] == "7")
    }

    @Test func nonsensicalLimitsAreRaisedToWorkableOnes() throws {
        var limits = HTTPServer.Limits()
        limits.maxQueuedOutputBytes = 0
        limits.maxConnectionsPerListener = -3
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let text = String(decoding: try connection.stream(HTTPRequest(method: "GET", target: "/stream?n=50")).readAll(), as: UTF8.self)
        #expect(text.hasSuffix("piece 49\n"))
    }

    @Test func addListenerRefusesASocketThatIsNotListening() throws {
        let server = HTTPServer(handler: TestHandler())
        defer { server.stop() }
        let (reader, writer) = try FileDescriptor.pipe()
        defer { try? reader.close(); try? writer.close() }
        let error = #expect(throws: HTTPServerError.self) { try server.addListener(reader, tag: 1) }
        #expect(error?.code == .notListening)
    }
}

/// Responders: lost, racing a disconnect, or blocked when the server stops.
@Suite struct HTTPResponderTests {
    /// Drops the responder of `/drop` and of `/drop-stream` (after starting a stream).
    struct DroppingHandler: HTTPHandler {
        func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
            if request.path == "/drop-stream" {
                Thread.detachNewThread {
                    responder.startStream(status: 200, headers: HTTPHeaders())
                    responder.write(Array("partial".utf8))
                }
            }
        }
    }

    @Test func aDroppedResponderBecomesA500AndTheConnectionLivesOn() throws {
        let server = HTTPServer(handler: DroppingHandler())
        defer { server.stop() }
        let (fd, port) = try HTTPServer.listenLoopback()
        try server.addListener(fd, tag: 1)
        try server.start()
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: port)
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/drop")).status == 500)
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/drop")).status == 500)
        let stream = try connection.stream(HTTPRequest(method: "GET", target: "/drop-stream"))
        #expect(stream.status == 200)
        // The abandoned stream ends by closing: the client sees a truncated chunked body.
        let error = #expect(throws: HTTPServerError.self) { try stream.readAll() }
        #expect(error?.code == .connectionClosed)
    }

    @Test func aPeerThatLeavesMidStreamStopsTheProducer() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let stream = try connection.stream(HTTPRequest(method: "GET", target: "/big?mb=512"), maxResponseBytes: 1 << 30)
        _ = try stream.next()
        connection.close()
        for _ in 0..<600 where fixture.handler.streamsDone == 0 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(fixture.handler.streamsDone == 1)
        #expect(fixture.handler.writeFailures == 1)
    }

    @Test func stoppingTheServerReleasesABlockedProducer() throws {
        var limits = HTTPServer.Limits()
        limits.maxQueuedOutputBytes = 64 * 1024
        let fixture = try TestServer(limits: limits)
        let connection = try fixture.connect()
        defer { connection.close() }
        try connection.sendRaw(Array("GET /big?mb=512 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        // Give the producer time to fill the queue and block (not required for the outcome).
        Thread.sleep(forTimeInterval: 0.1)
        fixture.stop()
        for _ in 0..<600 where fixture.handler.streamsDone == 0 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(fixture.handler.streamsDone == 1)
        #expect(fixture.handler.writeFailures == 1)
    }

    @Test func serverSentEventEncoding() {
        #expect(String(decoding: ServerSentEvent(data: "a\nb", event: "delta", id: "7").encoded, as: UTF8.self)
                == "event: delta\nid: 7\ndata: a\ndata: b\n\n")
        #expect(String(decoding: ServerSentEvent(data: "x", event: "bad\nname").encoded, as: UTF8.self) == "event: badname\ndata: x\n\n")
        var decoder = ServerSentEventDecoder()
        let events = decoder.feed(Array(": comment\r\nevent: e\r\ndata: 1\r\ndata:2\r\n\r\ndata: tail".utf8))
        #expect(events == [ServerSentEvent(data: "1\n2", event: "e")])
        #expect(decoder.feed([10, 10]) == [ServerSentEvent(data: "tail")])
    }
}
