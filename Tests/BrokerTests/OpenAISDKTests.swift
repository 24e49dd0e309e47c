import Foundation
import Guardrails
import Sandbox
import Specs
import Testing
import TestSupport
@testable import Broker

/// The official `openai` SDK (3.57.0, AgentSpecs/python/.venv) inside a real sandbox, talking to
/// the broker over the loopback listener in the agent's own network namespace.
@Suite("OpenAI SDK in a sandbox", .serialized)
struct OpenAISDKTests {
    static let venv = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/.venv/bin/python3").path
    static var ready: Bool { FileManager.default.fileExists(atPath: venv) && BrokerFixture.modelPath != nil }

    static let weather: ScriptedModel.Respond = { messages in
        if messages.last?.role == "tool" { return "It is sunny in Paris." }
        if messages.first?.content.contains("<tools>") == true {
            return "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
        }
        if messages.first?.content.contains("JSON object") == true { return "Here you go: not json at all" }
        return "Sunny and mild in Paris today."
    }

    static func catalog() throws -> ModelCatalog {
        let fast = try BrokerFixture.scripted(weather)
        guard let path = BrokerFixture.modelPath else { throw BrokerError(.internalError, "no model") }
        let slow = try ScriptedModel.provider(modelPath: path, stepNanoseconds: 20_000_000) { _ in String(repeating: "slow ", count: 400) }
        let leaky = try ScriptedModel.provider(modelPath: path) { _ in
            String(repeating: "Here is what you asked for, step by step. ", count: 40) + "The key is AKIAZ7Q2MBXK4W5TYHNP and the rest."
        }
        return ModelCatalog(["scripted": { () throws(BrokerError) -> any ModelProvider in fast },
                             "leaky": { () throws(BrokerError) -> any ModelProvider in leaky },
                             "instant": { () throws(BrokerError) -> any ModelProvider in Self.instant },
                             "slow": { () throws(BrokerError) -> any ModelProvider in slow }])
    }

    /// Always uses exactly its cap (a long reply truncated), so usage equals the reservation.
    static let instant = InstantModelProvider(reply: String(repeating: "abcd", count: 100))

    static func policy(maxConcurrent: Int = 4, tokensPerMinute: Int? = nil, guardrails: GuardrailSettings = .init()) -> BrokerPolicy {
        BrokerPolicy(port: 8080, models: [.init(name: "scripted", maxTokensPerRequest: 256), .init(name: "slow", maxTokensPerRequest: 500),
                                          .init(name: "leaky", maxTokensPerRequest: 600), .init(name: "instant", maxTokensPerRequest: 16)],
                     rateLimits: .init(requestsPerMinute: 1000, tokensPerMinute: tokensPerMinute), tokenBudget: 1_000_000,
                     maxConcurrent: maxConcurrent, guardrails: guardrails)
    }

    /// Secrets blocked in model output (nil until the guardrails work can decode it).
    static let blockSecrets: GuardrailSettings? = {
        guard let document = try? JSONParser.parseDocument(#"{"secrets": {"action": "block", "stages": ["output"]}}"#) else { return nil }
        return try? GuardrailSettings.read(document.reader)
    }()

    /// Runs the probe's `scenario` in a sandbox under the example agent's spec; returns its JSON and the broker.
    static func probe(_ scenario: String, policy: BrokerPolicy = policy()) throws -> (JSONValue, BrokerRun) {
        let spec = try AgentSpec.load(path: WardenTool.packageRoot.appendingPathComponent("AgentSpecs/openai-agent.json").path)
        var request = try SandboxRun.Request.agent(spec, workspace: nil)
        request.arguments = ["/agent/.venv/bin/python3", "/agent/sdk_probe.py", scenario]
        request.executable = request.arguments[0]
        request.timeoutNanos = 60_000_000_000
        let run = try BrokerRun(policy: policy, runID: "sdk-test", workspace: nil, trace: nil, models: catalog(), workerThreads: 2)
        var settings = SandboxRun.Settings(stdout: .capture, stderr: .capture)
        run.attach(&request, &settings)
        let result = try SandboxRun.execute(request, settings: settings)
        run.stop()
        let stdout = String(decoding: result.stdout, as: UTF8.self), stderr = String(decoding: result.stderr, as: UTF8.self)
        guard result.report.exitCode == 0, let line = stdout.split(separator: "\n").last,
              let json = try? JSONParser.parse(String(line)) else {
            throw BrokerError(.internalError, "probe \(scenario) failed: \(result.report.summary)\n\(stdout)\n\(stderr)")
        }
        return (json, run)
    }

    @Test("non-streaming completion and the model list", .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func chat() throws {
        let (json, run) = try Self.probe("chat")
        #expect(json["content"]?.string == "Sunny and mild in Paris today.")
        #expect(json["finish"]?.string == "stop")
        #expect(json["models"] == .array(["scripted", "slow", "leaky", "instant"].map { .string($0) }))
        #expect(run.server.statistics.requests == 2)
        #expect(run.endpoint.admission.snapshot.spentTokens == json["usage"]?[2]?.int)
    }

    @Test("streaming completion with include_usage", .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func stream() throws {
        let (json, _) = try Self.probe("stream")
        #expect(json["content"]?.string == "Sunny and mild in Paris today.")
        #expect((json["chunks"]?.int ?? 0) >= 4)
        #expect((json["usage"]?[2]?.int ?? 0) > 0 && json["finish"]?.string == "stop")
    }

    @Test("tool calls, a tool result round trip, and streamed tool-call deltas", .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func tools() throws {
        let (json, run) = try Self.probe("tools")
        #expect(json["finish"]?.string == "tool_calls")
        #expect(json["name"]?.string == "get_weather")
        #expect(json["arguments"]?["city"]?.string == "Paris")
        #expect(json["final"]?.string == "It is sunny in Paris.")
        #expect(json["streamed"]?[0]?["name"]?.string == "get_weather")
        #expect(json["streamed"]?[0]?["arguments"]?.string == #"{"city":"Paris"}"#)
        #expect(run.server.statistics.requests == 3)
    }

    @Test("a rate limit and policy denials as the SDK sees them, without a retry storm",
          .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func limits() throws {
        let (json, run) = try Self.probe("limits", policy: Self.policy(maxConcurrent: 1))
        // The concurrency 429 is retried twice by the SDK (its default), honouring retry-after-ms.
        #expect(json["second"]?[0]?.int == 429 && json["second"]?[1]?.string == "concurrency_limit_exceeded")
        #expect(json["slow_first"]?.string == "assistant")
        // Denials carry x-should-retry: false: one attempt each.
        #expect(json["denied"]?[0]?.int == 403 && json["denied"]?[1]?.string == "policy_denied")
        #expect(json["too_many_tokens"]?[0]?.int == 403)
        #expect(json["bad_request"]?[0]?.int == 400 && json["bad_request"]?[1]?.string == "$.n")
        // 1 slow stream + 3 attempts of the refused call + 1 + 1 + 1 = 7 requests at the broker.
        #expect(run.server.statistics.requests == 7)
        let admission = run.endpoint.admission.snapshot
        #expect(admission.admitted == 1 && admission.refused == 3 && admission.inFlight == 0)
        // The slow stream was cancelled when the client closed it: far fewer than its 500 tokens.
        #expect(admission.spentTokens < 300, "spent \(admission.spentTokens)")
    }

    @Test("tokens per minute: the third call waits out a short 429 (the SDK honours retry-after-ms) and succeeds",
          .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func tokenRate() throws {
        // Each call reserves and uses exactly E = prompt + 16 tokens. A bucket of 3E - E/300 lets
        // two through, and refills the third's shortfall (E/300) in about 70 ms.
        let prompt = try Self.instant.prepare([.init(role: "user", content: "What is the weather in Paris?")]).tokenCount
        let e = prompt + 16
        let (json, run) = try Self.probe("tokens", policy: Self.policy(tokensPerMinute: 3 * e - max(1, e / 300)))
        #expect(json["answered"]?.int == 3)
        #expect(json["usage"] == .array(Array(repeating: .number(JSONNumber(e)), count: 3)))
        let admission = run.endpoint.admission.snapshot
        #expect(admission.admitted == 3 && admission.refused >= 1)
        #expect(run.server.statistics.requests == 3 + admission.refused)
    }

    @Test("an error event mid-stream raises APIError in the SDK", .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func midstream() throws {
        let (json, _) = try Self.probe("midstream")
        #expect(json["error"]?.string == "APIError")
        #expect(json["message"]?.string?.contains("not a JSON object") == true)
    }

    @Test("a guardrail block mid-stream ends the SDK's stream with APIError, the secret never sent",
          .enabled(if: ready && blockSecrets != nil, "needs the venv, the model and the guardrails' settings decoding"))
    func guardrailMidStream() throws {
        let settings = try #require(Self.blockSecrets)
        let (json, _) = try Self.probe("guarded", policy: Self.policy(guardrails: settings))
        #expect(json["error"]?.string == "APIError")
        #expect(json["message"]?.string?.contains("blocked by the output guardrail") == true, "\(json)")
        #expect(json["before"]?.string?.contains("AKIA") == false)
        #expect(json["before"]?.string?.hasPrefix("Here is what you asked for") == true, "nothing was streamed before the block: \(json)")
    }

    @Test("warden run: the example agent uses the real model through the broker", .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func exampleAgent() throws {
        let result = try WardenTool.run(["run", "--verbose", "AgentSpecs/openai-agent.json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("broker at http://127.0.0.1:8080/v1, models: ['smollm2-135m']"), "\(result.stdout)")
        let answer = result.stdout.split(separator: "\n").first { $0.hasPrefix("answer: ") }
        #expect((answer?.count ?? 0) > "answer: ".count + 5, "\(result.stdout)")
        #expect(result.stdout.contains("streamed usage:"))
        // Both completions are in the run's trace.
        let runID = try #require(result.stderr.split(separator: "\n").first { $0.contains("trace ") }?.split(separator: " ").last)
        let shown = try WardenTool.run(["trace", "show", String(runID)])
        #expect(shown.stdout.components(separatedBy: "chat smollm2-135m via warden").count == 3, "\(shown.stdout)")
    }
}
