import Specs

/// What `tools/list` shows of a tool: its name, what it does, and the JSON Schema of its arguments.
public struct ToolDescriptor: Sendable {
    public var name: String
    public var description: String
    /// The arguments' JSON Schema (an object schema), as sent to the agent.
    public var inputSchema: JSONValue
    /// MCP tool annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint), for the
    /// built-ins only: a server's own annotations are untrusted and not passed on.
    public var annotations: JSONObject?

    public init(name: String, description: String, inputSchema: JSONValue, annotations: JSONObject? = nil) {
        self.name = name; self.description = description; self.inputSchema = inputSchema; self.annotations = annotations
    }

    /// The MCP `Tool` object.
    public var json: JSONValue {
        var object = JSONObject([("name", .string(name)), ("description", .string(description)), ("inputSchema", inputSchema)])
        if let annotations { object["annotations"] = .object(annotations) }
        return .object(object)
    }

    /// Annotations from the four MCP hints.
    static func hints(readOnly: Bool, destructive: Bool = false, idempotent: Bool = false, openWorld: Bool = false) -> JSONObject {
        JSONObject([("readOnlyHint", .bool(readOnly)), ("destructiveHint", .bool(destructive)),
                    ("idempotentHint", .bool(idempotent)), ("openWorldHint", .bool(openWorld))])
    }
}

/// What a tool call produced: text for the agent, optional structured content, and whether it is an
/// error the agent should see (MCP `isError`: rejected arguments, a missing file, a failed fetch).
public struct ToolResult: Sendable {
    public var text: String
    public var structured: JSONObject?
    public var isError: Bool
    /// Set when the policy refused the call (recorded as "denied" rather than "allowed").
    public var denied: Bool

    public init(text: String, structured: JSONObject? = nil, isError: Bool = false, denied: Bool = false) {
        self.text = text; self.structured = structured; self.isError = isError; self.denied = denied
    }

    /// A result the tool ran but failed (not found, too large, non-zero fetch ...).
    public static func failure(_ message: String) -> ToolResult { ToolResult(text: message, isError: true) }
    /// A result the policy refused.
    public static func denial(_ message: String) -> ToolResult { ToolResult(text: message, isError: true, denied: true) }

    /// The MCP `CallToolResult` object.
    public var json: JSONValue {
        var object = JSONObject([("content", .array([.object(["type": .string("text"), "text": .string(text)])]))])
        if let structured { object["structuredContent"] = .object(structured) }
        object["isError"] = .bool(isError)
        return .object(object)
    }
}

/// One tool the broker runs for agents. `call` is synchronous and may block (a file, a sandboxed
/// process, a fetch): the surfaces call it on a worker thread, never on the event loop. It gets
/// arguments already checked against `schema` and the rule's own schema, and checks the rule's
/// tool-specific constraints (paths, hosts, methods, sizes) itself.
public protocol BrokerTool: Sendable {
    var descriptor: ToolDescriptor { get }
    /// The tool's own argument schema (the descriptor's `inputSchema`, compiled).
    var schema: ArgumentSchema { get }
    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult
}

/// Helpers every built-in shares.
enum ToolArguments {
    /// The string member `key`, if present.
    static func string(_ arguments: JSONObject, _ key: String) -> String? {
        if case .string(let text)? = arguments[key] { return text }
        return nil
    }

    /// The integer member `key`, if present and integral.
    static func integer(_ arguments: JSONObject, _ key: String) -> Int64? {
        if case .number(let number)? = arguments[key] { return number.int64 ?? Int64(exactly: number.double.rounded(.towardZero)) }
        return nil
    }

    /// The number member `key` as a double, if present.
    static func number(_ arguments: JSONObject, _ key: String) -> Double? {
        if case .number(let number)? = arguments[key] { return number.double }
        return nil
    }

    /// The boolean member `key`, if present.
    static func bool(_ arguments: JSONObject, _ key: String) -> Bool? {
        if case .bool(let flag)? = arguments[key] { return flag }
        return nil
    }

    /// Compiles a built-in schema; the schemas are literals in this module, so a failure is a bug
    /// caught by the registry tests, and falls back to "any object" rather than trapping.
    static func schema(_ text: String) -> ArgumentSchema {
        ArgumentSchema.parse(text) ?? ArgumentSchema.parse(#"{"type": "object"}"#)!
    }
}
