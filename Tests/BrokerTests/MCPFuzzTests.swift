import Foundation
import Testing
@testable import Broker
import HTTPServer
import Specs
import TestSupport

/// Random and mutated JSON-RPC bodies against the MCP surface over one keep-alive connection:
/// every one gets an answer with a sensible status, and the session keeps working afterwards.
@Suite struct MCPFuzzTests {
    static let seeds = [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"a.txt"}}}"#,
        #"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"cursor":"c"}}"#,
        #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fs.write","arguments":{"path":"b/c.txt","content":"\u00e9\n","createDirectories":true}}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
    ]

    /// One mutation: flip, insert, delete or duplicate bytes, or truncate.
    static func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<(1 + Int(random.next() % 4)) {
            guard !bytes.isEmpty else { break }
            let at = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            case 1:
                let tokens = Array("{}[]\",:\\0-e".utf8)
                bytes.insert(tokens[Int(random.next() % UInt64(tokens.count))], at: at)
            case 2: bytes.remove(at: at)
            case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 16)], at: at)
            default: bytes.removeSubrange(at...)
            }
        }
        return bytes
    }

    /// Many clients at once, each on its own connection and session: every call is answered with
    /// its own result (no crossed responses), and sessions stay apart.
    @Test func concurrentClientsGetTheirOwnAnswers() throws {
        let broker = try MCPSurfaceTests.Broker()
        for i in 0..<8 { try "file \(i)".write(to: broker.workspace.appendingPathComponent("f\(i).txt"), atomically: true, encoding: .utf8) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { client in
            do {
                let session = try broker.session()
                let connection = try HTTPClientConnection(host: "127.0.0.1", port: broker.port)
                defer { connection.close() }
                for call in 0..<25 {
                    let body = #"{"jsonrpc":"2.0","id":\#(call),"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"f\#(client).txt"}}}"#
                    let request = HTTPRequest(method: "POST", target: "/mcp", headers: HTTPHeaders([
                        ("Host", "127.0.0.1"), ("Content-Type", "application/json"), ("Accept", "application/json"),
                        ("Authorization", "Bearer secret"), ("MCP-Session-Id", session)]), body: Array(body.utf8))
                    let text = String(decoding: try connection.send(request, timeout: .seconds(30)).body, as: UTF8.self)
                    if !text.contains("\"id\":\(call)") || !text.contains("file \(client)") { failures.add("client \(client) call \(call): \(text.prefix(200))") }
                }
            } catch {
                failures.add("client \(client): \(error)")
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.prefix(5))")
    }

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
        var list: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    @Test func mutatedRequestsAllGetAnswers() throws {
        let broker = try MCPSurfaceTests.Broker()
        let session = try broker.session()
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: broker.port)
        defer { connection.close() }
        var random = SeededGenerator(seed: 0x5EED_0005)
        var statuses: [Int: Int] = [:]
        for round in 0..<400 {
            let seed = Array(Self.seeds[round % Self.seeds.count].utf8)
            let body = round % 10 == 0 ? (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) } : Self.mutate(seed, &random)
            let request = HTTPRequest(method: "POST", target: "/mcp", headers: HTTPHeaders([
                ("Host", "127.0.0.1"), ("Content-Type", "application/json"), ("Accept", "application/json"),
                ("Authorization", "Bearer secret"), ("MCP-Session-Id", session)]), body: body)
            let response = try connection.send(request, timeout: .seconds(30))
            statuses[response.status, default: 0] += 1
            #expect([200, 202, 400].contains(response.status), "round \(round): \(response.status) for \(String(decoding: body, as: UTF8.self))")
            if response.status != 202 { #expect((try? JSONParser.parse(response.body)) != nil, "round \(round): not JSON") }
        }
        #expect(statuses[400, default: 0] > 50 && statuses[200, default: 0] > 10, "\(statuses)")
        let ping = try broker.send(#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#, headers: [("MCP-Session-Id", session)])
        #expect(ping.status == 200)
    }
}
