import Specs
import Inference

/// A `POST /v1/chat/completions` body, decoded strictly from the agent's bytes: invalid UTF-8,
/// invalid JSON, unknown fields and wrong types are 400s naming the field (`param`) and position.
public struct ChatCompletionRequest: Sendable {
    /// One conversation message. Assistant messages may carry tool calls; tool messages answer one.
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public var toolCalls: [ToolCallPart]
        public var toolCallID: String?
    }

    /// A function call as the assistant made it (`arguments` is the JSON text).
    public struct ToolCallPart: Sendable, Equatable {
        public var id: String
        public var name: String
        public var arguments: String
    }

    /// A function the agent offers the model: name, description, and its parameters' JSON Schema.
    public struct Tool: Sendable, Equatable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?
    }

    public enum ToolChoice: Sendable, Equatable {
        case none, auto, required
        case function(String)
    }

    public var model: String
    public var messages: [Message]
    public var tools: [Tool]
    public var toolChoice: ToolChoice
    public var stream: Bool
    public var includeUsage: Bool
    /// `max_completion_tokens`, else `max_tokens`, if given.
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int64?
    public var stop: [String]
    public var jsonObject: Bool
    /// OpenAI's end-user id (`user`), if given: `warden serve-model` queues callers fairly by it.
    public var user: String?

    static let keys = [
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "stream", "stream_options",
        "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "response_format", "n",
        "user", "metadata", "store", "frequency_penalty", "presence_penalty", "logprobs",
    ]
    static let roles = ["system", "developer", "user", "assistant", "tool"]

    /// Decodes a request body.
    public init(body: [UInt8]) throws(BrokerError) {
        do throws(JSONError) {
            let document = try JSONParser.parseDocument(body, file: "request")
            try self.init(document.reader)
        } catch {
            throw BrokerError.invalid("invalid request body: \(error.message)"
                                      + (error.line > 0 ? " (line \(error.line), column \(error.column))" : ""),
                                      param: error.path)
        }
    }

    init(_ reader: JSONReader) throws(JSONError) {
        let object = try reader.object(keys: Self.keys)
        model = try object.required("model").string()
        messages = try Self.readMessages(object.required("messages"))
        let tools = try object.optional("tools").map { r throws(JSONError) in try Self.readTools(r) } ?? []
        self.tools = tools
        toolChoice = try object.optional("tool_choice").map { r throws(JSONError) in try Self.readToolChoice(r, tools: tools) }
            ?? (tools.isEmpty ? .none : .auto)
        _ = try object.optional("parallel_tool_calls").map { r throws(JSONError) in try r.bool() }
        stream = try object.optional("stream").map { r throws(JSONError) in r.isNull ? false : try r.bool() } ?? false
        includeUsage = false
        if let options = object.optional("stream_options"), !options.isNull {
            let fields = try options.object(keys: ["include_usage", "include_obfuscation"])
            includeUsage = try fields.optional("include_usage")?.bool() ?? false
            _ = try fields.optional("include_obfuscation")?.bool()
        }
        maxCompletionTokens = nil
        for key in ["max_tokens", "max_completion_tokens"] {
            if let field = object.optional(key), !field.isNull { maxCompletionTokens = Int(try field.integer(in: 1...1_000_000)) }
        }
        temperature = try Self.real(object, "temperature", 0...2)
        topP = try Self.real(object, "top_p", 0...1)
        if let field = object.optional("top_p"), topP == 0 { throw field.error("top_p must be greater than 0") }
        seed = try object.optional("seed").flatMap { r throws(JSONError) in r.isNull ? nil : try r.integer() }
        stop = try ChatRequest.stopStrings(object.optional("stop"))
        jsonObject = try Self.readResponseFormat(object.optional("response_format"))
        user = try object.optional("user").flatMap { r throws(JSONError) in r.isNull ? nil : try r.string() }
        if let n = object.optional("n"), !n.isNull, try n.integer() != 1 { throw n.error("only n = 1 is supported") }
        try Self.checkIgnorable(object)
    }

    /// Fields accepted for compatibility that change nothing here; their types are still checked.
    static func checkIgnorable(_ object: JSONObjectReader) throws(JSONError) {
        _ = try object.optional("metadata").map { r throws(JSONError) in try r.anyObject() }
        _ = try object.optional("store").map { r throws(JSONError) in try r.bool() }
        for key in ["frequency_penalty", "presence_penalty"] { _ = try real(object, key, -2...2) }
        if let field = object.optional("logprobs"), !field.isNull, try field.bool() {
            throw field.error("logprobs are not supported")
        }
    }

    static func real(_ object: JSONObjectReader, _ key: String, _ range: ClosedRange<Double>) throws(JSONError) -> Double? {
        guard let field = object.optional(key), !field.isNull else { return nil }
        let value = try field.number().double
        guard range.contains(value) else { throw field.error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))") }
        return value
    }

    static func readMessages(_ field: JSONReader) throws(JSONError) -> [Message] {
        let items = try field.array()
        guard !items.isEmpty else { throw field.error("messages must not be empty") }
        var messages: [Message] = []
        for item in items {
            let object = try item.object(keys: ["role", "content", "name", "tool_call_id", "tool_calls", "refusal"])
            let roleField = try object.required("role")
            let role = try roleField.string()
            guard roles.contains(role) else {
                throw roleField.error("unknown role \"\(role)\" (allowed: \(roles.joined(separator: ", ")))")
            }
            _ = try object.optional("name").map { r throws(JSONError) in try r.string() }
            _ = try object.optional("refusal").map { r throws(JSONError) in r.isNull ? "" : try r.string() }
            let calls = try object.optional("tool_calls").map { r throws(JSONError) in try readToolCalls(r, role: role) } ?? []
            let contentField = object.optional("content")
            let content = try contentField.map { r throws(JSONError) in try readContent(r) } ?? nil
            if content == nil && !(role == "assistant" && !calls.isEmpty) {
                throw (contentField ?? item).error("content is required here (a string or text parts)", code: contentField == nil ? .missingKey : .typeMismatch)
            }
            var toolCallID: String?
            if let idField = object.optional("tool_call_id") { toolCallID = try idField.string() }
            if role == "tool", toolCallID == nil { throw item.error("a tool message needs \"tool_call_id\"", code: .missingKey) }
            messages.append(Message(role: role, content: content ?? "", toolCalls: calls, toolCallID: toolCallID))
        }
        return messages
    }

    /// `content`: a string, null, or an array of `{"type": "text", "text": ...}` parts (joined).
    static func readContent(_ field: JSONReader) throws(JSONError) -> String? {
        if case .null = field.value { return nil }
        return try ChatRequest.content(field)
    }

    static func readToolCalls(_ field: JSONReader, role: String) throws(JSONError) -> [ToolCallPart] {
        guard role == "assistant" else { throw field.error("only assistant messages carry tool_calls") }
        var calls: [ToolCallPart] = []
        for item in try field.array() {
            let object = try item.object(keys: ["id", "type", "function"])
            let type = try object.required("type")
            guard try type.string() == "function" else { throw type.error("only \"function\" tool calls are supported") }
            let function = try object.required("function").object(keys: ["name", "arguments"])
            calls.append(ToolCallPart(id: try object.required("id").string(), name: try function.required("name").string(),
                                      arguments: try function.required("arguments").string()))
        }
        return calls
    }

    static func readTools(_ field: JSONReader) throws(JSONError) -> [Tool] {
        var tools: [Tool] = []
        for item in try field.array() {
            let object = try item.object(keys: ["type", "function"])
            let type = try object.required("type")
            guard try type.string() == "function" else { throw type.error("only \"function\" tools are supported") }
            let function = try object.required("function").object(keys: ["name", "description", "parameters", "strict"])
            let nameField = try function.required("name")
            let name = try nameField.string()
            guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(Self.isToolNameByte) else {
                throw nameField.error("tool names are 1-64 of a-z A-Z 0-9 _ - .")
            }
            if tools.contains(where: { $0.name == name }) { throw nameField.error("tool \"\(name)\" is declared twice") }
            let parameters = try function.optional("parameters").map { r throws(JSONError) -> JSONValue in
                _ = try r.anyObject()
                return r.value
            }
            _ = try function.optional("strict").map { r throws(JSONError) in r.isNull ? false : try r.bool() }
            tools.append(Tool(name: name, description: try function.optional("description")?.string(), parameters: parameters))
        }
        return tools
    }

    static func isToolNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    static func readToolChoice(_ field: JSONReader, tools: [Tool]) throws(JSONError) -> ToolChoice {
        if case .string(let text) = field.value {
            switch text {
            case "none": return .none
            case "auto": return .auto
            case "required":
                if tools.isEmpty { throw field.error("tool_choice \"required\" needs tools") }
                return .required
            default: throw field.error("tool_choice must be none, auto, required or a function")
            }
        }
        let object = try field.object(keys: ["type", "function"])
        let name = try object.required("function").object(keys: ["name"]).required("name")
        let text = try name.string()
        guard tools.contains(where: { $0.name == text }) else { throw name.error("tool_choice names \"\(text)\", which is not in tools") }
        return .function(text)
    }

    /// True for `{"type": "json_object"}`; `text` is the default; `json_schema` is refused (no
    /// constrained decoding here, and a schema we cannot guarantee would be a silent lie).
    static func readResponseFormat(_ field: JSONReader?) throws(JSONError) -> Bool {
        guard let field, !field.isNull else { return false }
        let object = try field.object(keys: ["type", "json_schema"])
        let type = try object.required("type")
        switch try type.string() {
        case "text": return false
        case "json_object": return true
        case "json_schema": throw type.error("response_format json_schema is not supported; use json_object")
        default: throw type.error("response_format type must be text or json_object")
        }
    }
}
