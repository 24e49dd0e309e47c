import Foundation
import HTTPServer
import Inference
import Specs
import Testing
import TestSupport
@testable import Broker

/// The broker's model calls through the inference pool: fair-share identity, deadlines, overload and
/// cancellation when the client goes away, over a real socket.
@Suite("Model calls through the inference pool", .serialized)
struct PoolProviderTests {
    /// A pool over a scripted backend that takes `step` per evaluation, behind a served broker.
    final class Served {
        let pool: InferencePool
        let served: OpenAIServerTests.Served

        init(step: UInt64, configure: (inout PoolConfiguration) -> Void = { _ in }, policy: BrokerPolicy = BrokerFixture.policy(maxTokens: 400)) throws {
            let path = try #require(BrokerFixture.modelPath)
            let model = try LoadedModel(path: path)
            let backend = ScriptedBackend(vocabularySize: model.tokenizer.vocabularySize, stepNanoseconds: step)
            backend.setScript(model.tokenizer.encode(String(repeating: "slow ", count: 500)))
            var configuration = PoolConfiguration()
            configure(&configuration)
            pool = InferencePool(configuration: configuration, tokenizer: model.tokenizer) { (_: Int, _: Int) throws(InferenceError) -> any InferenceBackend in
                backend
            }
            let provider = PoolModelProvider(pool: pool, tokenizer: model.tokenizer, template: model.template, contextLength: 8192)
            served = try OpenAIServerTests.Served(provider, policy: policy)
        }

        deinit { pool.shutdown() }

        /// Waits until `condition` holds for the pool's metrics (or 30 s pass).
        func wait(_ condition: (PoolMetrics) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if condition(pool.metrics()) { return true }
                usleep(5_000)
            }
            return false
        }
    }

    @Test("a client that closes its connection mid-generation cancels its request; its blocks are freed", arguments: [false, true])
    func clientGoneCancels(stream: Bool) throws {
        let served = try Served(step: 5_000_000)
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.served.port)
        let body = #"{"model":"scripted","max_tokens":400,"stream":\#(stream),"messages":[{"role":"user","content":"go"}]}"#
        try connection.sendRaw(Array(raw(body).utf8))
        #expect(served.wait { $0.runningSequences == 1 }, "the request never started")
        connection.close()
        #expect(served.wait { $0.cancellations == 1 && $0.runningSequences == 0 && $0.kvBlocksUsed == 0 }, "\(served.pool.metrics())")
        #expect(served.pool.metrics().generatedTokens < 400)
        #expect(served.wait { _ in served.served.endpoint.admission.snapshot.inFlight == 0 })
    }

    @Test("the caller's agent, weight, priority and deadline reach the pool; a passed deadline answers 504")
    func deadlineAnswers504() throws {
        var policy = BrokerFixture.policy(maxTokens: 400)
        policy.inference = InferenceShare(weightMilli: 2000, priority: .batch, requestTimeoutMilliseconds: 50)
        let served = try Served(step: 5_000_000, policy: policy)
        let connection = try HTTPClientConnection(host: "127.0.0.1", port: served.served.port)
        let answer = try connection.send(served.served.request(#"{"model":"scripted","max_tokens":400,"messages":[{"role":"user","content":"go"}]}"#))
        #expect(answer.status == 504, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(String(decoding: answer.body, as: UTF8.self).contains("deadline_exceeded"))
        #expect(served.pool.metrics().deadlineMisses == 1)
        let request = PoolModelProvider.request(ModelPrompt(messages: [], tokens: [1, 2], tokenCount: 2),
                                                GenerationSettings(maxTokens: 5, caller: .starting(now: "run-7", share: policy.inference)),
                                                contextLength: 8192)
        #expect(request.agent == "run-7" && request.weight == 2 && request.priority == .batch && request.deadline != nil)
    }

    @Test("a full pool queue answers 429 with retry-after-ms")
    func overloadAnswers429() throws {
        let served = try Served(step: 20_000_000) {
            $0.maxRunningSequences = 1
            $0.maxQueuedPerAgent = 1
            $0.maxQueuedTotal = 1
        }
        let body = #"{"model":"scripted","max_tokens":50,"messages":[{"role":"user","content":"go"}]}"#
        let first = try HTTPClientConnection(host: "127.0.0.1", port: served.served.port)
        try first.sendRaw(Array(raw(body).utf8))
        #expect(served.wait { $0.runningSequences == 1 })
        let second = try HTTPClientConnection(host: "127.0.0.1", port: served.served.port)
        try second.sendRaw(Array(raw(body).utf8))
        #expect(served.wait { $0.queueDepthByAgent.values.reduce(0, +) == 1 })
        let third = try HTTPClientConnection(host: "127.0.0.1", port: served.served.port)
        let refused = try third.send(served.served.request(body))
        #expect(refused.status == 429, "\(String(decoding: refused.body, as: UTF8.self))")
        #expect(refused.headers["retry-after-ms"] != nil)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("model_overloaded"))
        #expect(served.pool.metrics().rejections == 1)
    }

    func raw(_ body: String) -> String {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer \(BrokerFixture.token)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test("the real model through the pool: a repeated system prompt is served from the prefix cache and reported as cached_tokens")
    func cachedTokensReported() throws {
        let path = try #require(BrokerFixture.modelPath)
        let provider = try PoolModelProvider(model: try LoadedModel(path: path), configuration: PoolConfiguration(), threads: 2)
        defer { provider.shutdown() }
        let served = try OpenAIServerTests.Served(provider, policy: BrokerFixture.policy(maxTokens: 8))
        let system = String(repeating: "You answer briefly and check every path against the policy. ", count: 8)
        func ask(_ question: String) throws -> (text: String, cached: Int, prompt: Int) {
            let body = #"{"model":"scripted","max_tokens":8,"temperature":0,"messages":[{"role":"system","content":"\#(system)"},{"role":"user","content":"\#(question)"}]}"#
            let answer = try HTTPClientConnection(host: "127.0.0.1", port: served.port).send(served.request(body), timeout: .seconds(120))
            let json = try JSONParser.parse(String(decoding: answer.body, as: UTF8.self))
            let usage = try #require(json["usage"], "\(answer.status)")
            return (json["choices"]?[0]?["message"]?["content"]?.string ?? "",
                    usage["prompt_tokens_details"]?["cached_tokens"]?.int ?? -1, usage["prompt_tokens"]?.int ?? -1)
        }
        let first = try ask("What is 2 + 2?")
        let second = try ask("What is 3 + 3?")
        let again = try ask("What is 2 + 2?")
        #expect(first.cached == 0 && first.prompt > 100)
        #expect(second.cached >= 64 && second.cached < second.prompt, "\(second)")
        #expect(again.cached >= second.cached && again.text == first.text, "\(again) vs \(first)")
    }
}
