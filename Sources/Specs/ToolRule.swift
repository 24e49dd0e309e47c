/// One tool an agent may call through the broker, with the constraints on its arguments.
/// (Placeholder shape from the contract; the tools work fills in the constraint fields and `read`.)
public struct ToolRule: Sendable {
    /// `fs.read`, `fs.write`, `fs.list`, `code.exec`, `http.fetch`, or `server.tool` for a spec's MCP server.
    public var name: String
    public init(name: String) { self.name = name }
}

extension ToolRule {
    /// Reads one tool rule. (Minimal version written by the broker-core work so the policy's
    /// `broker.tools` decode: `{"name": ...}` only; the tools work replaces it with the full rule.)
    public static func read(_ reader: JSONReader) throws(SpecError) -> ToolRule {
        let object: JSONObjectReader, name: JSONReader
        do {
            object = try reader.object(keys: ["name"])
            name = try object.required("name")
        } catch { throw SpecError(error) }
        return ToolRule(name: try name.name())
    }
}
