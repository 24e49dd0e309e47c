import Foundation
import HTTPServer
import Sandbox
import Specs
import Testing
import TestSupport
@testable import Broker

/// Upstream models through the broker's real OpenAI surface: an agent's call reaches the fake
/// upstream, and its stream, usage and errors come back the way the broker's own models' do.
@Suite("Upstream models through the broker", .serialized)
struct UpstreamBrokerTests {
    /// The standard catalog plus "remote" (or `name`) served by `fake`.
    static func catalog(_ fake: FakeOpenAIServer, name: String = "remote", retries: Int = 1) throws -> ModelCatalog {
        let text = #"{"models": {"\#(name)": {"contextLength": 4096, "endpoints": [\#(UpstreamFixture.endpoint(fake.url, retries: retries))]}}}"#
        return try ModelCatalog.standard(modelPath: nil).adding(ModelServing.parse(text, file: "serving.json"))
    }

    /// A broker with one agent endpoint, behind the real HTTP server on a loopback port.
    final class Served {
        let broker: Broker
        let endpoint: AgentEndpoint
        let server: HTTPServer
        let port: UInt16

        init(_ catalog: ModelCatalog, model: String = "remote") throws {
            broker = Broker(models: catalog, workerThreads: 2)
            endpoint = try AgentEndpoint(runID: "upstream", token: BrokerFixture.token,
                                         policy: BrokerFixture.policy(models: [model], maxTokens: 64), workspace: nil, trace: nil)
            broker.register(endpoint, listener: 4)
            server = HTTPServer(handler: broker)
            let (fd, port) = try HTTPServer.listenLoopback()
            self.port = port
            try server.addListener(fd, tag: 4)
            try server.start()
        }

        deinit { server.stop() }

        func post(_ body: String) throws -> (HTTPResponse, String) {
            let connection = try HTTPClientConnection(host: "127.0.0.1", port: port)
            defer { connection.close() }
            let request = HTTPRequest(method: "POST", target: "/v1/chat/completions", headers: HTTPHeaders([
                ("Content-Type", "application/json"), ("Authorization", "Bearer " + BrokerFixture.token)]), body: Array(body.utf8))
            let response = try connection.send(request, timeout: .seconds(60))
            return (response, String(decoding: response.body, as: UTF8.self))
        }
    }

    @Test("the catalog keeps its own models and adds the upstream ones; a clash or an unset key is refused at startup")
    func catalogMerge() throws {
        let fake = try FakeOpenAIServer([.answer(["x"])])
        defer { fake.stop() }
        let catalog = try Self.catalog(fake)
        #expect(catalog.names == [ModelCatalog.defaultModelName, "remote", ModelCatalog.instantModelName].sorted())
        #expect(try catalog.provider(named: "remote").providerName == "upstream")
        let clash = #"{"models": {"warden-instant": {"endpoints": [{"url": "\#(fake.url)"}]}}}"#
        #expect(throws: BrokerError.self) { try ModelCatalog.standard(modelPath: nil).adding(ModelServing.parse(clash)) }
        let keyed = #"{"models": {"k": {"endpoints": [{"url": "\#(fake.url)", "apiKeyEnv": "WARDEN_TEST_UNSET_KEY"}]}}}"#
        do {
            _ = try ModelCatalog([:]).adding(ModelServing.parse(keyed), environment: { _ in nil })
            Issue.record("an unset API key variable was accepted")
        } catch let error as BrokerError {
            #expect(error.message.contains("WARDEN_TEST_UNSET_KEY is not set"))
        }
    }

    @Test("a streamed call reaches the upstream; its text and usage come back as SSE, and admission is settled with the upstream's usage")
    func streamed() throws {
        let fake = try FakeOpenAIServer([.answer(["Bonjour", " from", " upstream"], usage: (31, 4))])
        defer { fake.stop() }
        let served = try Served(try Self.catalog(fake))
        let (response, text) = try served.post(
            #"{"model":"remote","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(response.status == 200)
        let events = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONParser.parse($0) }
        let content = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined()
        #expect(content == "Bonjour from upstream")
        #expect(chunks.contains { $0["choices"]?[0]?["finish_reason"]?.string == "stop" })
        let usage = try #require(chunks.last?["usage"])
        #expect(usage["prompt_tokens"]?.int == 31 && usage["completion_tokens"]?.int == 4)
        #expect(served.endpoint.admission.snapshot.spentTokens == 35)
        let sent = try JSONParser.parse(try #require(fake.requests.first).body)
        #expect(sent["model"]?.string == "upstream-id" && sent["messages"]?[0]?["content"]?.string == "hi")
    }

    @Test("a whole (non-streamed) call, and upstream failures as the agent sees them", arguments: [
        (FakeOpenAIServer.Behaviour.answer(["All", " good"]), 200, "All good"),
        (.status(400, message: "temperature must be at most 2"), 400, "temperature must be at most 2"),
        (.status(429, message: "quota", headers: [("retry-after-ms", "1500")]), 429, "rate_limit_exceeded"),
        (.status(503, message: "down for maintenance"), 503, "model_unavailable"),
    ])
    func whole(behaviour: FakeOpenAIServer.Behaviour, status: Int, fragment: String) throws {
        let fake = try FakeOpenAIServer([behaviour])
        defer { fake.stop() }
        // No retries: the 429's wait would otherwise be waited out before the broker answers.
        let served = try Served(try Self.catalog(fake, retries: 0))
        let (response, text) = try served.post(#"{"model":"remote","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(response.status == status, "\(text)")
        #expect(text.contains(fragment), "\(text)")
        if status == 429 { #expect(response.headers["retry-after-ms"] == "1500") }
        #expect(fake.requestCount == 1)
    }

    static var sandboxReady: Bool {
        FileManager.default.fileExists(atPath: OpenAISDKTests.venv) && FileManager.default.fileExists(atPath: "/usr/bin/python3")
    }

    @Test("the official SDK inside a sandbox streams from an upstream model", .enabled(if: sandboxReady, "run Scripts/agent-venv"))
    func sandboxedAgent() throws {
        let fake = try FakeOpenAIServer([.answer(["Sunny", " and mild", " (upstream)"], usage: (17, 5))])
        defer { fake.stop() }
        // The SDK probe asks for the model "scripted": here that name is served by the upstream.
        let catalog = try Self.catalog(fake, name: "scripted")
        let spec = try AgentSpec.load(path: WardenTool.packageRoot.appendingPathComponent("AgentSpecs/openai-agent.json").path)
        var request = try SandboxRun.Request.agent(spec, workspace: nil)
        request.arguments = ["/agent/.venv/bin/python3", "/agent/sdk_probe.py", "stream"]
        request.executable = request.arguments[0]
        request.timeoutNanos = 60_000_000_000
        let run = try BrokerRun(policy: BrokerFixture.policy(models: ["scripted"], maxTokens: 64), runID: "upstream-sdk",
                                workspace: nil, trace: nil, models: catalog, workerThreads: 2)
        var settings = SandboxRun.Settings(stdout: .capture, stderr: .capture)
        run.attach(&request, &settings)
        let result = try SandboxRun.execute(request, settings: settings)
        run.stop()
        let stdout = String(decoding: result.stdout, as: UTF8.self)
        let line = try #require(stdout.split(separator: "\n").last, "\(result.report.summary) \(String(decoding: result.stderr, as: UTF8.self))")
        let json = try JSONParser.parse(String(line))
        #expect(json["content"]?.string == "Sunny and mild (upstream)")
        #expect(json["usage"] == .array([17, 5, 22].map { .number(JSONNumber($0)) }))
        #expect(json["finish"]?.string == "stop")
        #expect(fake.requestCount == 1)
    }
}
