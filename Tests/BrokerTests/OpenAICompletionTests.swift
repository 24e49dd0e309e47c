import Foundation
import HTTPServer
import Inference
import Specs
import Testing
@testable import Broker

/// Chat completions through the broker's handler with the scripted backend (real tokenizer,
/// template, sampler and generation loop) and with the real model.
@Suite("OpenAI chat completions")
struct OpenAICompletionTests {
    static let weatherTool = #"[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

    /// Calls get_weather for a user turn; answers from the tool result once there is one.
    static let weatherScript: ScriptedModel.Respond = { messages in
        if messages.last?.role == "tool" { return "It is sunny in Paris." }
        return "Let me check.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
    }

    @Test("non-streaming: content, finish_reason, usage with the real token counts")
    func whole() throws {
        let (broker, endpoint) = try BrokerFixture.broker(BrokerFixture.scripted { _ in "Hello there, café 🙂!" })
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(answer.wait().status == 200)
        let json = try #require(answer.json)
        #expect(json["object"]?.string == "chat.completion")
        #expect(json["choices"]?[0]?["message"]?["content"]?.string == "Hello there, café 🙂!")
        #expect(json["choices"]?[0]?["finish_reason"]?.string == "stop")
        let usage = try #require(json["usage"])
        #expect((usage["prompt_tokens"]?.int ?? 0) > 5)
        #expect(usage["completion_tokens"]?.int == (usage["total_tokens"]?.int ?? 0) - (usage["prompt_tokens"]?.int ?? 0))
        #expect(endpoint.admission.snapshot.spentTokens == usage["total_tokens"]?.int)
        #expect(endpoint.admission.snapshot.reservedTokens == 0 && endpoint.admission.snapshot.inFlight == 0)
    }

    @Test("max_tokens ends with finish_reason length")
    func length() throws {
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted { _ in String(repeating: "word ", count: 50) })
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(answer.json?["choices"]?[0]?["finish_reason"]?.string == "length")
        #expect(answer.json?["usage"]?["completion_tokens"]?.int == 5)
    }

    @Test("streaming: role chunk, content chunks, finish chunk, usage chunk, [DONE]")
    func streamed() throws {
        // Long enough to outlast any guardrail hold-back window, so it arrives in several chunks.
        let script = String(repeating: "one two three ", count: 100)
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted { _ in script }, policy: BrokerFixture.policy(maxTokens: 1000))
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(answer.wait().status == 200 && answer.wait().headers["content-type"] == "text/event-stream")
        let events = answer.events
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONParser.parse($0) }
        #expect(chunks.count == events.count - 1)
        #expect(chunks.first?["choices"]?[0]?["delta"]?["role"]?.string == "assistant")
        let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined()
        #expect(text == script)
        #expect(chunks.filter { $0["choices"]?[0]?["delta"]?["content"]?.string?.isEmpty == false }.count >= 2)
        #expect(chunks.dropLast().last?["choices"]?[0]?["finish_reason"]?.string == "stop")
        #expect(chunks.last?["choices"] == .array([]) && (chunks.last?["usage"]?["total_tokens"]?.int ?? 0) > 0)
        #expect(chunks.dropLast().allSatisfy { $0["usage"] == .null })
    }

    @Test("tool calls: parsed into tool_calls with finish_reason tool_calls, then a tool result round trip")
    func toolCalls() throws {
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted(Self.weatherScript))
        let first = BrokerFixture.post(broker, #"{"model":"scripted","tools":\#(Self.weatherTool),"messages":[{"role":"user","content":"Weather in Paris?"}]}"#)
        let choice = try #require(first.json?["choices"]?[0])
        #expect(choice["finish_reason"]?.string == "tool_calls")
        let call = try #require(choice["message"]?["tool_calls"]?[0])
        #expect(call["function"]?["name"]?.string == "get_weather")
        #expect(call["function"]?["arguments"]?.string == #"{"city":"Paris"}"#)
        #expect(choice["message"]?["content"]?.string == "Let me check.")
        let id = try #require(call["id"]?.string)
        let second = BrokerFixture.post(broker, """
            {"model":"scripted","tools":\(Self.weatherTool),"messages":[{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"\(id)","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
             {"role":"tool","tool_call_id":"\(id)","content":"sunny, 24C"}]}
            """)
        #expect(second.wait().status == 200)
        #expect(second.json?["choices"]?[0]?["message"]?["content"]?.string == "It is sunny in Paris.")
        #expect(second.json?["choices"]?[0]?["finish_reason"]?.string == "stop")
    }

    @Test("streamed tool calls arrive as tool_call deltas")
    func streamedToolCalls() throws {
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted(Self.weatherScript))
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","stream":true,"tools":\#(Self.weatherTool),"messages":[{"role":"user","content":"Weather?"}]}"#)
        let chunks = answer.events.dropLast().compactMap { try? JSONParser.parse($0) }
        let deltas = chunks.compactMap { $0["choices"]?[0]?["delta"]?["tool_calls"]?[0] }
        #expect(deltas.count == 2)
        #expect(deltas.first?["function"]?["name"]?.string == "get_weather" && deltas.first?["id"]?.string?.hasPrefix("call_") == true)
        #expect(deltas.compactMap { $0["function"]?["arguments"]?.string }.joined() == #"{"city":"Paris"}"#)
        #expect(chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined() == "Let me check.")
        #expect(chunks.last?["choices"]?[0]?["finish_reason"]?.string == "tool_calls")
    }

    @Test("json_object: the JSON is extracted from prose; an answer with none is an error")
    func jsonObject() throws {
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted { messages in
            messages.last?.content == "bad" ? "no json here" : "Sure! ```json\n{\"a\": [1, \"}\"]}\n```"
        })
        let good = BrokerFixture.post(broker, #"{"model":"scripted","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"good"}]}"#)
        #expect(good.json?["choices"]?[0]?["message"]?["content"]?.string == #"{"a": [1, "}"]}"#)
        let bad = BrokerFixture.post(broker, #"{"model":"scripted","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"bad"}]}"#)
        #expect(bad.wait().status == 500 && bad.wait().headers["x-should-retry"] == "false")
        let streamed = BrokerFixture.post(broker, #"{"model":"scripted","stream":true,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"bad"}]}"#)
        #expect(streamed.events.last?.contains("\"error\"") == true)
    }

    @Test("a client that goes away mid-stream cancels the generation")
    func cancelled() throws {
        let (broker, endpoint) = try BrokerFixture.broker(BrokerFixture.scripted { _ in String(repeating: "token ", count: 2000) },
                                                          policy: BrokerFixture.policy(maxTokens: 2100))
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                                        failAfterWrites: 3)
        _ = answer.wait()
        let spent = endpoint.admission.snapshot.spentTokens
        #expect(spent > 0 && spent < 1000, "generation went on after the client left: \(spent) tokens")
        #expect(endpoint.admission.snapshot.inFlight == 0)
    }

    @Test("an exhausted budget is 403 and a rate limit 429 with retry-after-ms")
    func limits() throws {
        let (broker, _) = try BrokerFixture.broker(BrokerFixture.scripted { _ in "fine" },
                                                   policy: BrokerFixture.policy(maxTokens: 16, rpm: 2))
        let body = #"{"model":"scripted","messages":[{"role":"user","content":"hi"}]}"#
        #expect(BrokerFixture.post(broker, body).wait().status == 200)
        #expect(BrokerFixture.post(broker, body).wait().status == 200)
        let limited = BrokerFixture.post(broker, body).wait()
        #expect(limited.status == 429 && Int(limited.headers["retry-after-ms"] ?? "") ?? 0 > 0 && limited.headers["retry-after"] != nil)
        let (small, _) = try BrokerFixture.broker(BrokerFixture.scripted { _ in "fine" }, policy: BrokerFixture.policy(maxTokens: 16, budget: 40))
        let denied = BrokerFixture.post(small, body)
        #expect(denied.wait().status == 403 && denied.json?["error"]?["code"]?.string == "budget_exhausted")
    }

    @Test("the real model completes a chat through the broker",
          .enabled(if: BrokerFixture.modelPath != nil, "the default model is not pulled"))
    func realModel() throws {
        let path = try #require(BrokerFixture.modelPath)
        let model = try LoadedModel(path: path)
        let provider = try TokenModelProvider(model: model)
        let (broker, _) = try BrokerFixture.broker(provider)
        let question = [ChatMessage(role: "user", content: "What is the capital of France?")]
        let expected = try model.generator.generate(GenerationRequest(prompt: model.promptTokens(for: question), maxTokens: 12))
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","max_tokens":12,"temperature":0,"messages":[{"role":"user","content":"What is the capital of France?"}]}"#)
        #expect(answer.wait().status == 200)
        let content = answer.json?["choices"]?[0]?["message"]?["content"]?.string ?? ""
        #expect(!content.isEmpty && content == expected.text, "broker: \(content); engine: \(expected.text)")
        #expect((answer.json?["usage"]?["completion_tokens"]?.int ?? 0) <= 12)
    }

    @Test("a prompt longer than the model's context is a 400 context_length_exceeded")
    func contextOverflow() throws {
        let (broker, endpoint) = try BrokerFixture.broker(BrokerFixture.scripted { _ in "never" })
        let long = String(repeating: "lorem ipsum dolor sit amet ", count: 3000)
        let answer = BrokerFixture.post(broker, #"{"model":"scripted","messages":[{"role":"user","content":"\#(long)"}]}"#)
        #expect(answer.wait().status == 400)
        #expect(answer.json?["error"]?["code"]?.string == "context_length_exceeded")
        #expect(endpoint.admission.snapshot.admitted == 0)
    }

    @Test("a slow generation does not hold up other calls, even with one worker thread")
    func slowDoesNotBlock() throws {
        let path = try #require(BrokerFixture.modelPath)
        let slow = try ScriptedModel.provider(modelPath: path, stepNanoseconds: 10_000_000) { _ in String(repeating: "slow ", count: 300) }
        let catalog = ModelCatalog(["slow": { () throws(BrokerError) -> any ModelProvider in slow },
                                    "instant": { () throws(BrokerError) -> any ModelProvider in InstantModelProvider(reply: "quick") }])
        let broker = Broker(models: catalog, workerThreads: 1)
        let endpoint = try AgentEndpoint(runID: "t", token: BrokerFixture.token, policy: BrokerFixture.policy(models: ["slow", "instant"], maxTokens: 300),
                                         workspace: nil, trace: nil)
        broker.register(endpoint, listener: 1)
        let slowAnswer = CollectingResponder()
        var headers = HTTPHeaders([("Authorization", "Bearer " + BrokerFixture.token)])
        headers.add("content-type", "application/json")
        broker.handle(HTTPRequest(method: "POST", target: "/v1/chat/completions", headers: headers,
                                  body: Array(#"{"model":"slow","messages":[{"role":"user","content":"hi"}]}"#.utf8)),
                      connection: HTTPConnectionInfo(listener: 1, connection: 1), responder: slowAnswer)
        let quick = BrokerFixture.post(broker, #"{"model":"instant","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(quick.json?["choices"]?[0]?["message"]?["content"]?.string == "quick")
        #expect(endpoint.admission.snapshot.inFlight == 1, "the slow call should still be running")
        #expect(slowAnswer.wait().status == 200)
    }
}
