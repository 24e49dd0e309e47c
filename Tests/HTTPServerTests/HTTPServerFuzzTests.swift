import Foundation
import Glibc
import Testing
import TestSupport
@testable import HTTPServer

/// Thousands of random and mutated requests (seeded, so a failure reproduces) against a running
/// server; afterwards it must still answer, with bounded queues and every connection gone.
@Suite struct HTTPServerFuzzTests {
    static let templates: [String] = [
        "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "GET /stream?n=3 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /sse?n=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "HEAD /missing HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]
    static let fragments: [String] = [
        "\r\n", "\n", "\r", "\0", ":", " ", "\t", ",", ";", "Content-Length: 4\r\n", "Content-Length: -1\r\n",
        "Content-Length: 99999999999999999999\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n",
        "Host: y\r\n", "Expect: 100-continue\r\n", "ffffffffffffffffffff\r\n", "0\r\n\r\n", "HTTP/1.1", "\u{FF}\u{FE}",
        String(repeating: "A", count: 20000),
    ]
    static let allowed: Set<Int> = [200, 202, 404, 400, 408, 413, 414, 417, 431, 501, 505]

    @Test func randomAndMutatedRequestsNeverBreakTheServer() throws {
        var limits = HTTPServer.Limits()
        limits.maxBodyBytes = 64 * 1024
        limits.maxQueuedOutputBytes = 64 * 1024
        limits.headerTimeout = .seconds(2)
        limits.bodyTimeout = .seconds(2)
        let fixture = try TestServer(limits: limits)
        defer { fixture.stop() }
        var random = SeededGenerator(seed: 0x4854_5450_5F46_555A)
        var statuses: [Int: Int] = [:]
        for round in 0..<3000 {
            var bytes: [UInt8] = []
            let requests = round % 10 == 0 ? Int.random(in: 2...5, using: &random) : 1
            for _ in 0..<requests { bytes += Self.request(round: round, using: &random) }
            for status in try Self.exchange(bytes, port: fixture.port) { statuses[status, default: 0] += 1 }
        }
        let unexpected = statuses.keys.filter { !Self.allowed.contains($0) }
        #expect(unexpected.isEmpty, "unexpected statuses \(unexpected)")
        #expect(statuses[200, default: 0] > 100)
        #expect(statuses[400, default: 0] > 100)
        // Still serving, queues bounded, every fuzzing connection closed.
        let connection = try fixture.connect()
        #expect(try connection.send(HTTPRequest(method: "POST", target: "/echo", body: [1, 2, 3])).body == [1, 2, 3])
        connection.close()
        #expect(fixture.server.statistics.maxQueuedBytes <= limits.maxQueuedOutputBytes + 64 * 1024)
        for _ in 0..<500 where fixture.server.statistics.connections > 0 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(fixture.server.statistics.connections == 0)
    }

    /// A quarter random bytes, the rest a template with one to four mutations.
    static func request(round: Int, using random: inout SeededGenerator) -> [UInt8] {
        if round % 4 == 0 {
            return (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        var bytes = Array(templates[Int.random(in: 0..<templates.count, using: &random)].utf8)
        for _ in 0..<Int.random(in: 1...4, using: &random) { mutate(&bytes, using: &random) }
        return bytes
    }

    static func mutate(_ bytes: inout [UInt8], using random: inout SeededGenerator) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 1: bytes.insert(contentsOf: fragments[Int.random(in: 0..<fragments.count, using: &random)].utf8, at: position)
        case 2 where !bytes.isEmpty:
            let end = min(bytes.count, position + Int.random(in: 1...8, using: &random))
            bytes.removeSubrange(position..<end)
        case 3: bytes = Array(bytes[..<position])
        case 4 where !bytes.isEmpty:
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &random))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        }
    }

    /// Sends `bytes` on a fresh connection, half-closes, and returns the statuses that come back.
    static func exchange(_ bytes: [UInt8], port: UInt16) throws -> [Int] {
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: port)
        defer { connection.close() }
        // The server may answer and close before everything is sent: that is fine.
        try? connection.sendRaw(bytes)
        shutdown(connection.fd, Int32(SHUT_WR))
        var statuses: [Int] = []
        while statuses.count < 10, let response = try? connection.readResponse(timeout: .seconds(20)) {
            statuses.append(response.status)
        }
        return statuses
    }
}
