import Foundation
import Testing
import TestSupport
@testable import HTTPServer

/// Many clients at once, with answers coming from the loop thread and from other threads.
@Suite struct HTTPServerConcurrencyTests {
    /// A handler working on a request learns that its client closed the connection (the broker cancels
    /// the generation); a client still connected is not reported gone.
    @Test func aClosedClientIsReportedGoneToTheHandler() throws {
        let server = try TestServer()
        defer { server.stop() }
        let staying = try server.connect()
        try staying.sendRaw(Array("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let leaving = try server.connect()
        try leaving.sendRaw(Array("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        usleep(50_000)
        leaving.close()
        let deadline = Date().addingTimeInterval(10)
        while server.handler.peersGone < 1 && Date() < deadline { usleep(5_000) }
        #expect(server.handler.peersGone == 1)
        staying.close()
        let later = Date().addingTimeInterval(10)
        while server.handler.peersGone < 2 && Date() < later { usleep(5_000) }
        #expect(server.handler.peersGone == 2)
    }

    @Test func manyClientsGetTheirOwnAnswers() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let clients = 16
        let problems = Problems()
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            var random = SeededGenerator(seed: UInt64(client) &* 0x9E37_79B9)
            do {
                let connection = try fixture.connect()
                for call in 0..<60 {
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0:
                        let body = (0..<Int.random(in: 0...20_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                        let response = try connection.send(HTTPRequest(method: "POST", target: "/echo", body: body))
                        if response.body != body { throw TestFailure("client \(client) call \(call): echo mismatch") }
                    case 1:
                        let response = try connection.send(HTTPRequest(method: "GET", target: "/later"))
                        if response.text != "later" { throw TestFailure("client \(client) call \(call): later mismatch") }
                    default:
                        let count = Int.random(in: 1...40, using: &random)
                        let response = try connection.send(HTTPRequest(method: "GET", target: "/stream?n=\(count)"))
                        if response.text != (0..<count).map({ "piece \($0)\n" }).joined() {
                            throw TestFailure("client \(client) call \(call): stream mismatch")
                        }
                    }
                }
            } catch {
                problems.add("\(error)")
            }
        }
        #expect(problems.all.isEmpty, "\(problems.all)")
        #expect(fixture.server.statistics.requests == clients * 60)
    }

    final class Problems: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ problem: String) { lock.withLock { list.append(problem) } }
        var all: [String] { lock.withLock { list } }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Sizes exactly at a limit pass; one byte over is refused.
    @Test(arguments: [(8 * 1024, 404), (8 * 1024 + 1, 414)])
    func targetLengthBoundary(length: Int, status: Int) throws {
        var limits = HTTPServer.Limits()
        limits.maxRequestLineBytes = 64 * 1024
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        let target = "/" + String(repeating: "t", count: length - 1)
        #expect(try fixture.raw("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n").status == status)
    }

    @Test(arguments: [(100, 404), (101, 431)])
    func headerCountBoundary(count: Int, status: Int) throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        // Host is one of the `count` fields.
        let fields = (1..<count).map { "X-\($0): v\r\n" }.joined()
        #expect(try fixture.raw("GET /x HTTP/1.1\r\nHost: x\r\n\(fields)\r\n").status == status)
    }

    @Test(arguments: [(8 * 1024 * 1024, 200), (8 * 1024 * 1024 + 1, 413)])
    func bodyLengthBoundary(length: Int, status: Int) throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try fixture.connect()
        let body = [UInt8](repeating: 0x62, count: length)
        let response = try connection.send(HTTPRequest(method: "POST", target: "/echo", body: body), maxResponseBytes: 16 << 20)
        #expect(response.status == status)
        if status == 200 { #expect(response.body.count == length) }
    }
}
