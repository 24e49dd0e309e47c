import Foundation
import Glibc
import Testing
@testable import HTTPServer

/// Malformed and oversized requests: each gets its status, then the connection closes.
@Suite struct HTTPServerRejectionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let request: String
        let status: Int
        var testDescription: String { name }
    }

    static let longTarget = "/" + String(repeating: "a", count: 9000)
    static let manyHeaders = (0..<101).map { "X-H\($0): v\r\n" }.joined()
    static let bigHeader = "X-Big: " + String(repeating: "b", count: 17 * 1024) + "\r\n"

    static let cases: [Case] = [
        Case(name: "missing Host", request: "GET /echo HTTP/1.1\r\n\r\n", status: 400),
        Case(name: "two Host", request: "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
        Case(name: "HTTP/2.0", request: "GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", status: 505),
        Case(name: "HTTP/1.2", request: "GET /echo HTTP/1.2\r\nHost: x\r\n\r\n", status: 505),
        Case(name: "bad version", request: "GET /echo HTTX/1.1\r\nHost: x\r\n\r\n", status: 400),
        Case(name: "no version", request: "GET /echo\r\nHost: x\r\n\r\n", status: 400),
        Case(name: "bad method", request: "GE(T /echo HTTP/1.1\r\nHost: x\r\n\r\n", status: 400),
        Case(name: "control in target", request: "GET /e\u{1}cho HTTP/1.1\r\nHost: x\r\n\r\n", status: 400),
        Case(name: "double space", request: "GET  /echo HTTP/1.1\r\nHost: x\r\n\r\n", status: 400),
        Case(name: "long target", request: "GET \(longTarget) HTTP/1.1\r\nHost: x\r\n\r\n", status: 414),
        Case(name: "too many headers", request: "GET /echo HTTP/1.1\r\nHost: x\r\n\(manyHeaders)\r\n", status: 431),
        Case(name: "huge header", request: "GET /echo HTTP/1.1\r\nHost: x\r\n\(bigHeader)\r\n", status: 431),
        Case(name: "obs-fold", request: "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", status: 400),
        Case(name: "space before colon", request: "GET /echo HTTP/1.1\r\nHost : x\r\n\r\n", status: 400),
        Case(name: "NUL in value", request: "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", status: 400),
        Case(name: "bare LF", request: "GET /echo HTTP/1.1\nHost: x\n\n", status: 400),
        Case(name: "negative length", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", status: 400),
        Case(name: "plus length", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\nx", status: 400),
        Case(name: "hex length", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", status: 400),
        Case(name: "overflowing length", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", status: 400),
        Case(name: "conflicting lengths", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", status: 400),
        Case(name: "conflicting list", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab", status: 400),
        Case(name: "length and chunked", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "too large length", request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n", status: 413),
        Case(name: "gzip coding", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501),
        Case(name: "chunked twice", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400),
        Case(name: "chunked in 1.0", request: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "chunk size overflow", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", status: 400),
        Case(name: "chunk size junk", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400),
        Case(name: "chunk too large", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000\r\n", status: 413),
        Case(name: "chunk without CRLF", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", status: 400),
        Case(name: "expect too large", request: "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9000000\r\n\r\n", status: 413),
        Case(name: "unknown expectation", request: "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx", status: 417),
    ]

    @Test(arguments: cases) func rejected(_ testCase: Case) throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        defer { connection.close() }
        try connection.sendRaw(Array(testCase.request.utf8))
        let response = try connection.readResponse(timeout: .seconds(20))
        #expect(response.status == testCase.status, "\(response.text)")
        #expect(response.headers["connection"] == "close")
        // The server closes after an error: the next read ends.
        #expect(throws: HTTPServerError.self) { try connection.readResponse(timeout: .seconds(20)) }
        #expect(fixture.server.statistics.rejections == 1)
        #expect(fixture.server.statistics.requests == 0)
    }

    @Test func expectContinueGetsAnInterimResponse() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        try connection.sendRaw(Array("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".utf8))
        // Read the interim response by hand before sending the body.
        var interim: [UInt8] = []
        var byte = [UInt8](repeating: 0, count: 1)
        let deadline = monotonicNanoseconds() + 20_000_000_000
        while !interim.reversed().starts(with: [10, 13, 10, 13]) {
            let count = try byte.withUnsafeMutableBytes { try ClientSocket.read(connection.fd, into: $0, deadline: deadline) }
            guard count == 1 else { break }
            interim.append(byte[0])
        }
        #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try connection.sendRaw(Array("hello".utf8))
        #expect(try connection.readResponse().text == "hello")
    }

    @Test func chunkedBodyOverTheLimitIs413() throws {
        var limits = HTTPServer.Limits()
        limits.maxBodyBytes = 1000
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let chunk = String(repeating: "x", count: 600)
        let response = try fixture.raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n")
        #expect(response.status == 413)
    }

    @Test func http10DefaultsToCloseAndKeepAliveOnRequest() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let closing = try fixture.raw("GET /echo HTTP/1.0\r\n\r\n")
        #expect(closing.headers["connection"] == "close")
        let connection = try fixture.connect()
        try connection.sendRaw(Array("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(try connection.readResponse().headers["connection"] == "keep-alive")
        #expect(try connection.readResponse().headers["connection"] == "close")
    }
}
