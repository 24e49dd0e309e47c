import Dispatch
import HostOS
import Specs

extension MCPServerConnection {
    /// Calls the server's tool `tool`; a transport failure or a JSON-RPC error becomes an error result.
    func call(_ tool: String, arguments: JSONObject, timeoutMilliseconds: Int64) -> ToolResult {
        let deadline = StdioChannel.monotonic() + UInt64(timeoutMilliseconds) * 1_000_000
        let params = JSONObject([("name", .string(tool)), ("arguments", .object(arguments))])
        switch channel.request("tools/call", params: .object(params), deadline: deadline) {
        case .failure(let failure):
            return .failure("\(name).\(tool): \(failure)")
        case .success(.object(let result)):
            return Self.convert(result)
        case .success:
            return .failure("\(name).\(tool): the server's result is not an object")
        }
    }

    /// An MCP CallToolResult into ours: text contents joined, other content kinds named.
    static func convert(_ result: JSONObject) -> ToolResult {
        var parts: [String] = []
        if case .array(let content)? = result["content"] {
            for case .object(let item) in content {
                switch (item["type"], item["text"]) {
                case (.string("text")?, .string(let text)?): parts.append(text)
                case (.string(let kind)?, _): parts.append("[\(kind) content]")
                default: continue
                }
            }
        }
        var structured: JSONObject?
        if case .object(let object)? = result["structuredContent"] { structured = object }
        let isError = result["isError"] == .bool(true)
        return ToolResult(text: parts.joined(separator: "\n"), structured: structured, isError: isError)
    }

    /// Kills the server's sandbox and waits (bounded) for its teardown.
    public func stop() {
        let signal = stopSignal.withLock { descriptor -> FileDescriptor? in
            defer { descriptor = nil }
            return descriptor
        }
        guard let signal else { return }
        try? signal.close()  // hang-up on the stop pipe: supervision kills the tree
        _ = ended.wait(timeout: .now() + .seconds(10))
        channel.close("stopped")
    }
}

/// A tool of a spec's MCP server, offered as `server.tool`.
struct MCPServerTool: BrokerTool {
    let server: MCPServerConnection
    let remote: ToolDescriptor
    static let defaultTimeoutMilliseconds: Int64 = 30_000

    var descriptor: ToolDescriptor {
        ToolDescriptor(name: server.name + "." + remote.name, description: remote.description, inputSchema: remote.inputSchema)
    }

    /// The server validates its own arguments against its own schema (which may use keywords
    /// outside our subset); ours only asks for an object. The policy's rule schema still applies.
    let schema = ToolArguments.schema(#"{"type": "object"}"#)

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        server.call(remote.name, arguments: arguments, timeoutMilliseconds: rule.timeoutMilliseconds ?? Self.defaultTimeoutMilliseconds)
    }
}
