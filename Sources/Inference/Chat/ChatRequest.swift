import Specs

/// An OpenAI-style chat completion request (`/v1/chat/completions` body), decoded strictly: unknown
/// fields and wrong types are errors that name the JSON path, line and column.
public struct ChatRequest: Equatable, Sendable {
    /// The conversation.
    public var messages: [ChatMessage]
    /// The most tokens to generate (`max_tokens`, or `max_completion_tokens`), if given.
    public var maxTokens: Int?
    /// Sampling; fields the request leaves out keep ``SamplingParameters``' defaults.
    public var sampling: SamplingParameters
    /// Whether the request set a seed (otherwise the caller picks one and reports it).
    public var hasSeed: Bool
    /// Stop strings (`stop`: a string or up to 4 strings).
    public var stop: [String]
    /// The `model` field, if given (informational: the CLI serves one model).
    public var model: String?
    /// Whether the caller asked for a server-sent-event stream.
    public var stream: Bool

    /// Every field this decoder understands; anything else is an error.
    public static let keys = [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "seed",
        "stop", "repetition_penalty", "frequency_penalty", "presence_penalty", "stream", "n", "user",
    ]
    static let messageKeys = ["role", "content", "name", "tool_call_id", "tool_calls"]

    /// Decodes a request body; `file` names the source in errors (e.g. `<stdin>`).
    public init(json bytes: [UInt8], file: String? = nil) throws(JSONError) {
        let document = try JSONParser.parseDocument(bytes, file: file)
        let object = try document.reader.object(keys: Self.keys)
        messages = try Self.messages(object.required("messages"))
        maxTokens = nil
        for key in ["max_tokens", "max_completion_tokens"] {
            if let field = object.optional(key), !field.isNull { maxTokens = Int(try field.integer(in: 1...1_000_000)) }
        }
        var sampling = SamplingParameters()
        try Self.readSampling(object, into: &sampling)
        hasSeed = false
        if let seed = object.optional("seed"), !seed.isNull {
            sampling.seed = UInt64(bitPattern: try seed.integer())
            hasSeed = true
        }
        self.sampling = sampling
        stop = try Self.stopStrings(object.optional("stop"))
        model = try object.optional("model").map { field throws(JSONError) in try field.string() }
        stream = try object.optional("stream").map { field throws(JSONError) in try field.bool() } ?? false
        if let n = object.optional("n"), try n.integer() != 1 {
            throw n.error("only n = 1 is supported")
        }
        _ = try object.optional("user").map { field throws(JSONError) in try field.string() }
    }

    private static func readSampling(_ object: JSONObjectReader, into p: inout SamplingParameters) throws(JSONError) {
        func real(_ key: String, _ range: ClosedRange<Double>, _ assign: (Float) -> Void) throws(JSONError) {
            guard let field = object.optional(key), !field.isNull else { return }
            let value = try field.number().double
            guard range.contains(value) else { throw field.error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))") }
            assign(Float(value))
        }
        try real("temperature", 0...100) { p.temperature = $0 }
        try real("top_p", 0...1) { p.topP = $0 }
        try real("min_p", 0...1) { p.minP = $0 }
        try real("repetition_penalty", 0.01...100) { p.repetitionPenalty = $0 }
        try real("frequency_penalty", -2...2) { p.frequencyPenalty = $0 }
        try real("presence_penalty", -2...2) { p.presencePenalty = $0 }
        if let field = object.optional("top_p"), p.topP == 0 { throw field.error("top_p must be greater than 0") }
        if let field = object.optional("top_k"), !field.isNull { p.topK = Int(try field.integer(in: 0...1_000_000)) }
    }

    private static func messages(_ field: JSONReader) throws(JSONError) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        let items = try field.array()
        guard !items.isEmpty else { throw field.error("messages must not be empty") }
        for item in items {
            let object = try item.object(keys: messageKeys)
            let roleField = try object.required("role")
            let role = try roleField.string()
            guard ChatMessage.roles.contains(role) else {
                throw roleField.error("unknown role \"\(role)\" (allowed: \(ChatMessage.roles.sorted().joined(separator: ", ")))")
            }
            if let calls = object.optional("tool_calls") {
                throw calls.error("tool_calls are not supported: the model's chat template has no tool-call format")
            }
            _ = try object.optional("name").map { f throws(JSONError) in try f.string() }
            _ = try object.optional("tool_call_id").map { f throws(JSONError) in try f.string() }
            messages.append(ChatMessage(role: role, content: try content(object.required("content"))))
        }
        return messages
    }

    /// OpenAI's message `content`: a string, or an array of `{"type": "text", "text": ...}` parts (joined).
    public static func content(_ field: JSONReader) throws(JSONError) -> String {
        if case .string(let text) = field.value { return text }
        guard case .array = field.value else { throw field.error("expected a string or an array of text parts, found \(field.value.kindDescription)", code: .typeMismatch) }
        var text = ""
        for part in try field.array() {
            let object = try part.object(keys: ["type", "text"])
            let type = try object.required("type")
            guard try type.string() == "text" else { throw type.error("only \"text\" content parts are supported") }
            text += try object.required("text").string()
        }
        return text
    }

    /// OpenAI's `stop`: absent or null, one non-empty string, or up to four of them.
    public static func stopStrings(_ field: JSONReader?) throws(JSONError) -> [String] {
        guard let field, !field.isNull else { return [] }
        if case .string(let one) = field.value {
            guard !one.isEmpty else { throw field.error("stop strings must not be empty") }
            return [one]
        }
        let items = try field.array()
        guard items.count <= 4 else { throw field.error("at most 4 stop strings are allowed") }
        var strings: [String] = []
        for item in items {
            let stop = try item.string()
            guard !stop.isEmpty else { throw item.error("stop strings must not be empty") }
            strings.append(stop)
        }
        return strings
    }
}
