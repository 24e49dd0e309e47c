import Specs

/// How tools reach a model without native tool support, and how its calls come back: the
/// Hermes-style convention (NousResearch's Hermes function calling, also used by Qwen templates).
///
/// The request's tools are listed in a system turn as JSON inside `<tools>…</tools>`, and the model
/// is told to answer a call as
///
///     <tool_call>
///     {"name": "get_weather", "arguments": {"city": "Paris"}}
///     </tool_call>
///
/// Earlier assistant turns that made calls are rendered the same way, and tool results go back as
/// `tool` turns wrapped in `<tool_response>…</tool_response>`, so a conversation stays in one format.
public enum ToolCallFormat {
    public static let open = "<tool_call>"
    public static let close = "</tool_call>"

    /// The system text that offers `tools` under `choice` (nil for `none` or no tools).
    public static func systemPrompt(tools: [ChatCompletionRequest.Tool], choice: ChatCompletionRequest.ToolChoice) -> String? {
        if tools.isEmpty || choice == .none { return nil }
        var text = "You can call functions. The available functions, as JSON Schema, are:\n<tools>\n"
        for tool in tools {
            var function = JSONObject([("name", .string(tool.name))])
            if let description = tool.description { function["description"] = .string(description) }
            function["parameters"] = tool.parameters ?? .object(JSONObject())
            text += JSONWriter.compact(.object(JSONObject([("type", .string("function")), ("function", .object(function))]))) + "\n"
        }
        text += "</tools>\nTo call a function, answer with one block per call and nothing else:\n"
        text += "\(open)\n{\"name\": \"<function name>\", \"arguments\": {<arguments as JSON>}}\n\(close)\n"
        switch choice {
        case .required: text += "You must call at least one function."
        case .function(let name): text += "You must call the function \"\(name)\"."
        default: text += "Call a function only when it helps; otherwise answer normally."
        }
        return text
    }

    /// An assistant turn's calls as the model would have written them.
    public static func render(_ calls: [ChatCompletionRequest.ToolCallPart]) -> String {
        calls.map { call in
            let arguments = (try? JSONParser.parse(call.arguments)) ?? .string(call.arguments)
            let body = JSONObject([("name", .string(call.name)), ("arguments", arguments)])
            return "\(open)\n\(JSONWriter.compact(.object(body)))\n\(close)"
        }.joined(separator: "\n")
    }

    /// A parsed call: its name and its arguments as compact JSON text (what OpenAI's `arguments` holds).
    public struct Call: Sendable, Equatable {
        public var name: String
        public var arguments: String
    }

    /// The call inside one block's text, or nil when it is not `{"name": string, "arguments": object}`.
    public static func parseCall(_ text: Substring) -> Call? {
        guard case .object(let object)? = try? JSONParser.parse(String(text).trimmingWhitespace()),
              case .string(let name)? = object["name"], !name.isEmpty else { return nil }
        switch object["arguments"] ?? object["parameters"] {
        case .object(let arguments)?: return Call(name: name, arguments: JSONWriter.compact(.object(arguments)))
        case .string(let text)?:
            guard case .object(let arguments)? = try? JSONParser.parse(text) else { return nil }
            return Call(name: name, arguments: JSONWriter.compact(.object(arguments)))
        case nil: return Call(name: name, arguments: "{}")
        default: return nil
        }
    }
}

/// Splits streamed model text into plain content and complete tool-call blocks, holding back only
/// what could still be the start of a `<tool_call>` tag.
public struct ToolCallScanner: Sendable {
    public enum Piece: Sendable, Equatable {
        case content(String)
        case call(ToolCallFormat.Call)
    }

    private var pending = ""
    private var inBlock = false

    public init() {}

    /// Feeds generated text; returns what is now final, in order.
    public mutating func feed(_ text: String) -> [Piece] {
        pending += text
        var pieces: [Piece] = []
        while true {
            if inBlock {
                guard let end = pending.firstRange(of: ToolCallFormat.close) else { return pieces }
                let body = pending[..<end.lowerBound]
                if let call = ToolCallFormat.parseCall(body) {
                    pieces.append(.call(call))
                } else {
                    // Not a call after all: the model's text stays text.
                    pieces.append(.content(ToolCallFormat.open + body + ToolCallFormat.close))
                }
                pending = String(pending[end.upperBound...])
                inBlock = false
            } else if let start = pending.firstRange(of: ToolCallFormat.open) {
                if start.lowerBound > pending.startIndex { pieces.append(.content(String(pending[..<start.lowerBound]))) }
                pending = String(pending[start.upperBound...])
                inBlock = true
            } else {
                let keep = Self.partialTagLength(pending)
                let cut = pending.index(pending.endIndex, offsetBy: -keep)
                if cut > pending.startIndex { pieces.append(.content(String(pending[..<cut]))) }
                pending = String(pending[cut...])
                return pieces
            }
        }
    }

    /// Ends the text: a block the model left unclosed (it stopped right after the JSON) is still
    /// a call when its body parses; anything else left is plain content.
    public mutating func finish() -> [Piece] {
        defer { pending = ""; inBlock = false }
        if inBlock, let call = ToolCallFormat.parseCall(pending[...]) { return [.call(call)] }
        let rest = (inBlock ? ToolCallFormat.open : "") + pending
        return rest.isEmpty ? [] : [.content(rest)]
    }

    /// How many trailing characters of `text` are a proper prefix of `<tool_call>`.
    static func partialTagLength(_ text: String) -> Int {
        let tag = Array(ToolCallFormat.open)
        let tail = Array(text.suffix(tag.count - 1))
        for length in stride(from: min(tail.count, tag.count - 1), through: 1, by: -1)
        where Array(tail.suffix(length)) == Array(tag.prefix(length)) {
            return length
        }
        return 0
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
