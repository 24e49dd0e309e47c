import Inference
import Specs

/// The OpenAI chat-completions wire format as an upstream speaks it: the streamed request the
/// broker sends, and the pieces of the chunks it reads back.
enum UpstreamWire {
    /// The request body: always streamed with usage in the last chunk (`stream_options.include_usage`,
    /// which vLLM, llama.cpp's server and OpenAI honour). `tool` turns go up as `user` turns: the broker
    /// folds tools into the prompt (ToolCallFormat, results already wrapped in `<tool_response>`), and
    /// an OpenAI-style server refuses a `tool` message without a `tool_call_id`.
    static func requestBody(model: String, messages: [ChatMessage], settings: GenerationSettings) -> [UInt8] {
        let turns: [JSONValue] = messages.map { message in
            .object(JSONObject([("role", .string(message.role == "tool" ? "user" : message.role)),
                                ("content", .string(message.content))]))
        }
        var body = JSONObject([
            ("model", .string(model)), ("messages", .array(turns)), ("stream", .bool(true)),
            ("stream_options", .object(JSONObject([("include_usage", .bool(true))]))),
            ("max_tokens", .number(JSONNumber(settings.maxTokens))),
        ])
        if let temperature = settings.temperature, let number = JSONNumber(temperature) { body["temperature"] = .number(number) }
        if let topP = settings.topP, let number = JSONNumber(topP) { body["top_p"] = .number(number) }
        // 31 bits: llama.cpp's server and some hosted APIs take only a 32-bit signed seed; the
        // broker's seed is 64-bit (random when the request has none).
        body["seed"] = .number(JSONNumber(Int(settings.seed & 0x7FFF_FFFF)))
        if !settings.stop.isEmpty { body["stop"] = .array(settings.stop.map { .string($0) }) }
        return JSONWriter.compactBytes(.object(body))
    }

    /// What one streamed chunk carries.
    struct Chunk: Equatable {
        var content: String?
        var finishReason: String?
        var usage: (prompt: Int, completion: Int)?
        /// An `{"error": …}` event's message (vLLM reports failures after the 200 head this way).
        var error: String?

        static func == (a: Chunk, b: Chunk) -> Bool {
            a.content == b.content && a.finishReason == b.finishReason && a.error == b.error
                && a.usage?.prompt == b.usage?.prompt && a.usage?.completion == b.usage?.completion
        }
    }

    /// Parses a `data:` payload (not `[DONE]`); nil when it is not a chunk object.
    static func chunk(_ data: String) -> Chunk? {
        guard case .object(let object)? = try? JSONParser.parse(data) else { return nil }
        var chunk = Chunk()
        if let error = object["error"] {
            chunk.error = message(of: error) ?? "an error event without a message"
            return chunk
        }
        if case .array(let choices)? = object["choices"], case .object(let choice)? = choices.first {
            // `delta` in a stream; `message` when a server ignored `stream` and answered whole.
            if case .object(let delta)? = choice["delta"] ?? choice["message"], case .string(let text)? = delta["content"] {
                chunk.content = text
            }
            if case .string(let reason)? = choice["finish_reason"] { chunk.finishReason = reason }
        } else if object["choices"] == nil && object["usage"] == nil {
            return nil
        }
        if case .object(let usage)? = object["usage"], case .number(let prompt)? = usage["prompt_tokens"],
           case .number(let completion)? = usage["completion_tokens"], let p = prompt.int64, let c = completion.int64, p >= 0, c >= 0 {
            chunk.usage = (Int(min(p, 1 << 40)), Int(min(c, 1 << 40)))
        }
        return chunk
    }

    /// The message of an OpenAI error body (`{"error": {"message": …}}`, `{"error": "…"}`,
    /// `{"message": …}`), else the start of the text.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let value = try? JSONParser.parse(body), let text = message(of: value) { return String(text.prefix(500)) }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingWhitespace()
        return text.isEmpty ? "no message" : text
    }

    private static func message(of value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .object(let object):
            if case .string(let text)? = object["message"] { return text }
            if let inner = object["error"] { return message(of: inner) }
            return nil
        default: return nil
        }
    }

    /// A token count without the upstream's tokenizer, for admission and for usage when an upstream
    /// reports none: a quarter of the ASCII bytes (the usual ~4 characters a token of English text and
    /// code with BPE vocabularies) plus one per non-ASCII scalar (CJK and most other scripts run about
    /// a token a character; counting each keeps the estimate on the high side).
    static func estimateTokens(_ text: String) -> Int {
        var ascii = 0, other = 0
        for scalar in text.unicodeScalars { if scalar.isASCII { ascii += 1 } else { other += 1 } }
        return (ascii + 3) / 4 + other
    }

    /// A conversation's estimate: each message's text plus 4 tokens of role and separators, plus 3
    /// for the assistant turn's start (the per-message overhead of ChatML-style templates).
    static func estimateTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(3) { $0 + 4 + estimateTokens($1.content) }
    }
}
