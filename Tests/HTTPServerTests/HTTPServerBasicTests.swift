import Foundation
import Testing
@testable import HTTPServer

@Suite struct HTTPServerBasicTests {
    @Test func keepAliveCarriesManyRequestsOnOneConnection() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        for index in 0..<20 {
            let body = Array("request \(index)".utf8)
            let response = try connection.send(HTTPRequest(method: "POST", target: "/echo", body: body))
            #expect(response.status == 200)
            #expect(response.body == body)
            #expect(response.headers["x-listener"] == "7")
            #expect(connection.isReusable)
        }
        #expect(fixture.server.statistics.requests == 20)
        #expect(fixture.server.statistics.connections == 1)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        // The slow one (answered from another thread) first: the fast ones must wait behind it.
        var raw = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
        for index in 0..<5 { raw += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\(index)" }
        try connection.sendRaw(Array(raw.utf8))
        #expect(try connection.readResponse().text == "later")
        for index in 0..<5 { #expect(try connection.readResponse().text == "\(index)") }
    }

    @Test func chunkedRequestBodyWithExtensionsAndTrailers() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let response = try fixture.raw(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.text == "hello 0123456789")
    }

    @Test func streamedResponseArrivesInChunks() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let stream = try connection.stream(HTTPRequest(method: "GET", target: "/stream?n=50"))
        #expect(stream.status == 200)
        #expect(stream.headers["transfer-encoding"] == "chunked")
        let text = String(decoding: try stream.readAll(), as: UTF8.self)
        #expect(text == (0..<50).map { "piece \($0)\n" }.joined())
        // The connection is reusable after a complete chunked response.
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
    }

    @Test func serverSentEventsDecodeOnTheClient() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let stream = try connection.stream(HTTPRequest(method: "GET", target: "/sse?n=10"))
        #expect(stream.headers["content-type"] == "text/event-stream")
        var decoder = ServerSentEventDecoder()
        var events: [ServerSentEvent] = []
        while let piece = try stream.next() { events += decoder.feed(piece) }
        #expect(events.count == 11)
        #expect(events.first == ServerSentEvent(data: "{\"i\":0}"))
        #expect(events.last == ServerSentEvent(data: "[DONE]", event: "done"))
    }

    @Test func fetchByURL() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let url = try HTTPURL(parsing: "http://127.0.0.1:\(fixture.port)/echo?x=1")
        let response = try HTTPClient.fetch(url, method: "PUT", body: Array("data".utf8), timeout: .seconds(10))
        #expect(response.status == 200)
        #expect(response.headers["x-method"] == "PUT")
        #expect(response.text == "data")
        let missing = try HTTPClient.fetch(try HTTPURL(parsing: "http://localhost:\(fixture.port)/nothing"))
        #expect(missing.status == 404)
    }

    @Test func http10GetsCloseDelimitedStreams() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let response = try fixture.raw("GET /stream?n=3 HTTP/1.0\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.headers["transfer-encoding"] == nil)
        #expect(response.text == "piece 0\npiece 1\npiece 2\n")
    }

    @Test func headRequestsGetNoBody() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        try connection.sendRaw(Array("HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let head = try connection.readResponse(method: "HEAD")
        #expect(head.status == 404)
        #expect(head.headers["content-length"] == "9")
        #expect(head.body.isEmpty)
        #expect(try connection.readResponse().status == 200)
    }

    @Test func stopIsIdempotentAndClosesConnections() throws {
        let fixture = try TestServer()
        let connection = try fixture.connect()
        #expect(try connection.send(HTTPRequest(method: "GET", target: "/echo")).status == 200)
        fixture.stop()
        fixture.stop()
        #expect(throws: HTTPServerError.self) { try connection.send(HTTPRequest(method: "GET", target: "/echo")) }
    }
}
