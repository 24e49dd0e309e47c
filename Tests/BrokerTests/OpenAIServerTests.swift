import Foundation
import HTTPServer
import Specs
import Testing
import TestSupport
@testable import Broker
@testable import TraceStore

/// The broker behind the real HTTP server, over real loopback sockets.
@Suite("OpenAI surface over HTTP")
struct OpenAIServerTests {
    /// A broker with one endpoint, served on a fresh loopback port.
    final class Served {
        let broker: Broker
        let endpoint: AgentEndpoint
        let server: HTTPServer
        let port: UInt16

        init(_ provider: any ModelProvider, policy: BrokerPolicy = BrokerFixture.policy(), trace: TraceRecorder? = nil,
             limits: HTTPServer.Limits = .init()) throws {
            let catalog = ModelCatalog(["scripted": { () throws(BrokerError) -> any ModelProvider in provider }])
            broker = Broker(models: catalog, workerThreads: 2)
            endpoint = try AgentEndpoint(runID: trace?.runID ?? "test", token: BrokerFixture.token, policy: policy, workspace: nil, trace: trace)
            broker.register(endpoint, listener: 3)
            server = HTTPServer(handler: broker, limits: limits)
            let (fd, port) = try HTTPServer.listenLoopback()
            self.port = port
            try server.addListener(fd, tag: 3)
            try server.start()
        }

        deinit { server.stop() }

        func request(_ body: String, path: String = "/v1/chat/completions") -> HTTPRequest {
            HTTPRequest(method: "POST", target: path, headers: HTTPHeaders([
                ("Host", "127.0.0.1"), ("Content-Type", "application/json"), ("Authorization", "Bearer " + BrokerFixture.token),
            ]), body: Array(body.utf8))
        }
    }

    static let good = #"{"model":"scripted","messages":[{"role":"user","content":"hi"}]}"#

    @Test("bad requests on a keep-alive connection do not disturb the next ones")
    func keepAliveAfterErrors() throws {
        let served = try Served(BrokerFixture.scripted { _ in "fine" })
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        defer { connection.close() }
        for body in ["{", #"{"model":1}"#, Self.good, "[]", Self.good] {
            let response = try connection.send(served.request(body))
            #expect(response.status == (body == Self.good ? 200 : 400))
            #expect(connection.isReusable)
        }
        #expect(served.server.statistics.requests == 5)
    }

    @Test("mutated chat requests over one keep-alive connection all get an answer; the connection keeps working")
    func fuzzOverSocket() throws {
        let served = try Served(BrokerFixture.scripted { _ in "fine" })
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        defer { connection.close() }
        var generator = SystemRandomNumberGenerator()
        let seed = Array(#"{"model":"scripted","stream":false,"max_tokens":4,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#.utf8)
        for round in 0..<300 {
            var body = seed
            for _ in 0...(round % 8) {
                let index = Int(generator.next() % UInt64(body.count))
                switch generator.next() % 4 {
                case 0: body[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: body.remove(at: index)
                case 2: body.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                default: body.insert(contentsOf: body[index..<min(body.count, index + 12)], at: index)
                }
            }
            var request = served.request("")
            request.body = body
            let response = try connection.send(request)
            #expect(response.status == 200 || (400..<500).contains(response.status), "round \(round)")
            #expect((try? JSONParser.parse(response.body)) != nil || response.headers["content-type"] == "text/event-stream", "round \(round)")
        }
        #expect(try connection.send(served.request(Self.good)).status == 200)
        #expect(served.endpoint.admission.snapshot.inFlight == 0)
    }

    @Test("a body over the server's limit is refused with 413 and the broker stays up")
    func hugeBody() throws {
        var limits = HTTPServer.Limits()
        limits.maxBodyBytes = 64 * 1024
        let served = try Served(BrokerFixture.scripted { _ in "fine" }, limits: limits)
        let huge = #"{"model":"scripted","messages":[{"role":"user","content":""# + String(repeating: "x", count: 200_000) + #""}]}"#
        let refused = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        let status = (try? refused.send(served.request(huge)))?.status
        refused.close()
        #expect(status == 413)
        let fresh = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        #expect(try fresh.send(served.request(Self.good)).status == 200)
        fresh.close()
    }

    @Test("a streamed completion arrives as SSE events over the socket")
    func streamOverSocket() throws {
        let served = try Served(BrokerFixture.scripted { _ in "alpha beta gamma" })
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        defer { connection.close() }
        let stream = try connection.stream(served.request(#"{"model":"scripted","stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
        let text = String(decoding: try stream.readAll(), as: UTF8.self)
        let events = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        #expect(events.last == "[DONE]")
        let content = events.dropLast().compactMap { try? JSONParser.parse($0) }
            .compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined()
        #expect(content == "alpha beta gamma")
        #expect(try connection.send(served.request(Self.good)).status == 200)
    }

    @Test("each completion is a model.request record in the run's trace, with usage and hashes")
    func traced() throws {
        let directory = TraceDirectory(path: try TraceTools.makeTemporaryDirectory("broker-trace"))
        let start = RunStart(runID: RunID.make(), agentName: "t", spec: .object(JSONObject()), specSHA256: String(repeating: "1", count: 64),
                             policy: .object(JSONObject()), policySHA256: String(repeating: "2", count: 64), hostname: "h",
                             kernel: "k", wardenVersion: "0")
        let recorder = try TraceRecorder.start(start, directory: directory)
        let served = try Served(BrokerFixture.scripted { _ in "traced answer" }, trace: recorder)
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.port)
        let ok = try connection.send(served.request(Self.good))
        #expect(try connection.send(served.request(#"{"model":"nope","messages":[{"role":"user","content":"hi"}]}"#)).status == 403)
        connection.close()
        served.server.stop()
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        let records = try TraceReader.scan(path: directory.runPath(recorder.runID)).records.map(\.record)
        let requests = records.filter { $0.type == .modelRequest }
        #expect(requests.count == 2)
        let first = try #require(requests.first?.body)
        let usage = try #require(JSONParser.parse(ok.body)["usage"])
        #expect(first["model"] == .string("scripted") && first["provider"] == .string("scripted"))
        #expect(first["input_tokens"] == usage["prompt_tokens"] && first["output_tokens"] == usage["completion_tokens"])
        #expect(first["cached_input_tokens"] == usage["prompt_tokens_details"]?["cached_tokens"] && first["cached_input_tokens"] != nil)
        #expect(first["finish_reasons"] == .array([.string("stop")]) && first["error"] == .null)
        #expect(first["request_sha256"]?.string?.count == 64 && first["response_sha256"]?.string?.count == 64)
        #expect(requests[1].body["error"]?.string?.contains("policy_denied") == true)
        #expect(requests.allSatisfy { $0.parent == recorder.runSpan })
        // The answered call's guardrail stages, each a decision in its span (verdict apart from action).
        let decisions = records.filter { $0.type == .guardrailDecision && $0.span == requests[0].span }
        #expect(Set(decisions.compactMap { $0.body["target"]?.string }) == ["input", "output"])
        #expect(decisions.allSatisfy { $0.body["verdict"] != nil && $0.body["action"] != nil })
    }
}
