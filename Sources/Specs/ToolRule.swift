/// One tool an agent may call through the broker, with the constraints on its arguments.
/// (Placeholder shape from the contract; the tools work fills in the constraint fields and `read`.)
public struct ToolRule: Sendable {
    /// `fs.read`, `fs.write`, `fs.list`, `code.exec`, `http.fetch`, or `server.tool` for a spec's MCP server.
    public var name: String
    public init(name: String) { self.name = name }
}
