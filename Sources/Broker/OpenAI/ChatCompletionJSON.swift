import Glibc
import Specs

/// The JSON shapes of chat completion responses and stream chunks (openai 3.57.0's types).
enum ChatCompletionJSON {
    /// `chatcmpl-` and 24 random hex digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let a = generator.next() as UInt64, b = generator.next() as UInt32
        return "chatcmpl-" + hex(a, 16) + hex(UInt64(b), 8)
    }

    /// `call_` and 24 random hex digits.
    static func newCallID() -> String {
        var generator = SystemRandomNumberGenerator()
        let a = generator.next() as UInt64, b = generator.next() as UInt32
        return "call_" + hex(a, 16) + hex(UInt64(b), 8)
    }

    static func hex(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Seconds since the epoch, for `created`.
    static func now() -> Int { Int(time(nil)) }

    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    /// OpenAI's usage object; `prompt_tokens_details.cached_tokens` counts prompt tokens whose KV came
    /// from the pool's prefix cache.
    static func usage(prompt: Int, completion: Int, cached: Int = 0) -> JSONValue {
        .object(JSONObject([("prompt_tokens", int(prompt)), ("completion_tokens", int(completion)),
                            ("total_tokens", int(prompt + completion)),
                            ("prompt_tokens_details", .object(JSONObject([("cached_tokens", int(cached))])))]))
    }

    static func toolCall(_ call: ToolCallFormat.Call, id: String) -> JSONValue {
        .object(JSONObject([("id", .string(id)), ("type", .string("function")),
                            ("function", .object(JSONObject([("name", .string(call.name)), ("arguments", .string(call.arguments))])))]))
    }

    /// A complete `chat.completion` object.
    static func completion(id: String, created: Int, model: String, content: String?, calls: [(ToolCallFormat.Call, String)],
                           finishReason: String, promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) -> JSONValue {
        var message = JSONObject([("role", .string("assistant")), ("content", content.map { .string($0) } ?? .null),
                                  ("refusal", .null)])
        if !calls.isEmpty { message["tool_calls"] = .array(calls.map { toolCall($0.0, id: $0.1) }) }
        let choice = JSONObject([("index", int(0)), ("message", .object(message)), ("logprobs", .null),
                                 ("finish_reason", .string(finishReason))])
        return .object(JSONObject([
            ("id", .string(id)), ("object", .string("chat.completion")), ("created", int(created)), ("model", .string(model)),
            ("choices", .array([.object(choice)])), ("usage", usage(prompt: promptTokens, completion: completionTokens, cached: cachedTokens)),
            ("system_fingerprint", .null),
        ]))
    }

    /// One `chat.completion.chunk` carrying `delta` (and `finish_reason` on the last choice chunk).
    static func chunk(id: String, created: Int, model: String, delta: JSONObject, finishReason: String?, withUsage: Bool) -> [UInt8] {
        let choice = JSONObject([("index", int(0)), ("delta", .object(delta)), ("logprobs", .null),
                                 ("finish_reason", finishReason.map { .string($0) } ?? .null)])
        var object = JSONObject([("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", int(created)),
                                 ("model", .string(model)), ("system_fingerprint", .null), ("choices", .array([.object(choice)]))])
        if withUsage { object["usage"] = .null }
        return event(.object(object))
    }

    /// The extra final chunk of `include_usage`: no choices, the usage.
    static func usageChunk(id: String, created: Int, model: String, promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) -> [UInt8] {
        event(.object(JSONObject([("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", int(created)),
                                  ("model", .string(model)), ("system_fingerprint", .null), ("choices", .array([])),
                                  ("usage", usage(prompt: promptTokens, completion: completionTokens, cached: cachedTokens))])))
    }

    /// `data: JSON\n\n`.
    static func event(_ value: JSONValue) -> [UInt8] {
        var bytes = Array("data: ".utf8)
        bytes += JSONWriter.compactBytes(value)
        bytes += [0x0A, 0x0A]
        return bytes
    }

    static let done = Array("data: [DONE]\n\n".utf8)
}
