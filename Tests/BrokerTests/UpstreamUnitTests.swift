import HTTPServer
import Inference
import Specs
import Testing
@testable import Broker

/// The upstream provider's pure parts: backoff numbers, Retry-After parsing, the wire format,
/// the token estimate, and the pool configuration mapping.
@Suite("Upstream pieces")
struct UpstreamUnitTests {
    @Test("backoff doubles from the base up to the cap; jitter takes at most half off", arguments: [
        // (retry, base, cap, jitter, expected ms)
        (1, 250, 8000, 0.0, 250), (1, 250, 8000, 1.0, 125), (2, 250, 8000, 0.0, 500), (2, 250, 8000, 1.0, 250),
        (3, 250, 8000, 0.5, 750), (6, 250, 8000, 0.0, 8000), (6, 250, 8000, 1.0, 4000), (40, 600_000, 600_000, 0.0, 600_000),
        (1, 1, 4, 1.0, 1), (0, 100, 1000, 0.0, 100),
    ])
    func backoff(retry: Int, base: Int, cap: Int, jitter: Double, expected: Int) {
        #expect(UpstreamBackoff.delay(retry: retry, base: base, cap: cap, jitter: jitter) == expected)
    }

    @Test("Retry-After: retry-after-ms first, then whole seconds; dates and junk are ignored", arguments: [
        ([("retry-after-ms", "1500")], 1500), ([("Retry-After-Ms", "12.2")], 13), ([("retry-after", "3")], 3000),
        ([("retry-after", "2"), ("retry-after-ms", "250")], 250), ([("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")], nil),
        ([("retry-after", "-1")], nil), ([("retry-after-ms", "soon")], nil), ([], nil),
    ] as [([(String, String)], Int?)])
    func retryAfter(headers: [(String, String)], expected: Int?) {
        #expect(UpstreamBackoff.retryAfter(HTTPHeaders(headers.map { (name: $0.0, value: $0.1) })) == expected)
    }

    @Test("which failures are retried at the same endpoint, and which end the call")
    func failureClasses() {
        let cases: [(UpstreamFailure, retried: Bool, requestFault: Bool)] = [
            (.init(kind: .connection, message: ""), true, false), (.init(kind: .timeout, message: ""), true, false),
            (.init(kind: .streamError, message: ""), true, false), (.init(kind: .malformed, message: ""), false, false),
            (.init(kind: .status, message: "", status: 500), true, false), (.init(kind: .status, message: "", status: 503), true, false),
            (.init(kind: .status, message: "", status: 429), true, false), (.init(kind: .status, message: "", status: 400), false, true),
            (.init(kind: .status, message: "", status: 401), false, false), (.init(kind: .status, message: "", status: 404), false, false),
            (.init(kind: .status, message: "", status: 413), false, true), (.init(kind: .status, message: "", status: 422), false, true),
        ]
        for (failure, retried, fault) in cases {
            #expect(failure.retriesSameEndpoint == retried, "\(failure.kind) \(failure.status ?? 0)")
            #expect(failure.isRequestFault == fault, "\(failure.kind) \(failure.status ?? 0)")
        }
    }

    @Test("the request body: streamed with usage, sampling fields, tool turns sent as user turns")
    func requestBody() throws {
        let messages = [ChatMessage(role: "system", content: "s"), ChatMessage(role: "tool", content: "<tool_response>\n42\n</tool_response>")]
        let settings = GenerationSettings(maxTokens: 17, temperature: 0.25, topP: 0.9, seed: 0xFFFF_FFFF_0000_0005, stop: ["END"])
        let body = try JSONParser.parse(UpstreamWire.requestBody(model: "m-id", messages: messages, settings: settings))
        #expect(body["model"]?.string == "m-id" && body["stream"] == .bool(true))
        #expect(body["stream_options"]?["include_usage"] == .bool(true))
        #expect(body["max_tokens"]?.int == 17 && body["seed"]?.int == 5)
        #expect(body["temperature"] == .number(JSONNumber(0.25)!) && body["top_p"] == .number(JSONNumber(0.9)!))
        #expect(body["stop"] == .array([.string("END")]))
        #expect(body["messages"]?[1]?["role"]?.string == "user")
        #expect(body["messages"]?[1]?["content"]?.string == "<tool_response>\n42\n</tool_response>")
    }

    @Test("chunks: content, finish reason, usage, error events; non-chunks are nil")
    func chunks() {
        #expect(UpstreamWire.chunk(#"{"choices":[{"delta":{"content":"hi"},"finish_reason":null}]}"#)
                == UpstreamWire.Chunk(content: "hi"))
        #expect(UpstreamWire.chunk(#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#) == UpstreamWire.Chunk(finishReason: "length"))
        #expect(UpstreamWire.chunk(#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#)
                == UpstreamWire.Chunk(usage: (3, 4)))
        #expect(UpstreamWire.chunk(#"{"error":{"message":"out of memory"}}"#) == UpstreamWire.Chunk(error: "out of memory"))
        #expect(UpstreamWire.chunk(#"{"choices":[],"usage":{"prompt_tokens":-3,"completion_tokens":4}}"#) == UpstreamWire.Chunk())
        for junk in ["", "null", "[1]", "{\"hello\": 1}", "{\"choices\": 5"] { #expect(UpstreamWire.chunk(junk) == nil, "\(junk)") }
        #expect(UpstreamWire.errorMessage(Array(#"{"error":{"message":"bad key"}}"#.utf8)) == "bad key")
        #expect(UpstreamWire.errorMessage(Array("<html>nope</html>".utf8)) == "<html>nope</html>")
    }

    @Test("the token estimate: a quarter of ASCII bytes, one per other character, message overhead", arguments: [
        ("", 0), ("abcd", 1), ("abcde", 2), (String(repeating: "word ", count: 100), 125), ("日本語", 3), ("héllo", 2),
    ])
    func estimate(text: String, tokens: Int) {
        #expect(UpstreamWire.estimateTokens(text) == tokens)
        #expect(UpstreamWire.estimateTokens([ChatMessage(role: "user", content: text)]) == 3 + 4 + tokens)
    }

    @Test("pool settings map onto the pool configuration; absent ones keep its defaults")
    func poolConfiguration() throws {
        let serving = try ModelServing.parse(#"{"pool": {"kvMemory": "1GiB", "blockSize": 32, "workers": {"max": 4}, "idleReleaseMs": 1500}}"#)
        let configuration = PoolConfiguration(serving.pool)
        var expected = PoolConfiguration()
        expected.kvMemoryBytes = 1 << 30; expected.blockSize = 32; expected.maxWorkers = 4; expected.idleRelease = .milliseconds(1500)
        #expect(configuration == expected)
        #expect(PoolConfiguration(ModelServing.PoolSettings()) == PoolConfiguration())
        // One bound alone never leaves min above max.
        var low = ModelServing.PoolSettings(); low.minWorkers = 3
        #expect(PoolConfiguration(low).maxWorkers == 3)
        var full = ModelServing.PoolSettings()
        full.maxBatchTokens = 128; full.maxRunningSequences = 8; full.maxQueuedPerAgent = 2; full.maxQueuedTotal = 20
        full.prefixCaching = false; full.minWorkers = 0; full.scaleUpQueueWaitMilliseconds = 40
        let mapped = PoolConfiguration(full)
        #expect(mapped.maxBatchTokens == 128 && mapped.maxRunningSequences == 8 && mapped.maxQueuedPerAgent == 2)
        #expect(mapped.maxQueuedTotal == 20 && !mapped.prefixCaching && mapped.minWorkers == 0 && mapped.scaleUpQueueWait == .milliseconds(40))
    }
}
