// PLACEHOLDER (broker-core): what the policy's `broker.tools` decoding needs from ToolRule until
// the tools work lands. Delete this file when merging it: its ToolRule.swift declares the real
// `read`, `covers` and `narrowed(to:)` (same signatures and meaning).

extension ToolRule {
    /// Reads one tool rule. (Minimal version written by the broker-core work so the policy's
    /// `broker.tools` decode: `{"name": ...}` only, `server.*` allowed; the tools work replaces it
    /// with the full rule.)
    public static func read(_ reader: JSONReader) throws(SpecError) -> ToolRule {
        let object: JSONObjectReader, name: JSONReader
        do {
            object = try reader.object(keys: ["name"])
            name = try object.required("name")
        } catch { throw SpecError(error) }
        let text = try name.text()
        let server = text.hasSuffix(".*") ? text.dropLast(2) : Substring(text)
        guard !server.isEmpty, server.utf8.count <= 64, server.first?.isLetter == true || server.first?.isNumber == true,
              server.utf8.allSatisfy({ $0 < 0x80 && (Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber
                                                     || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")) })
        else { throw name.specError("\"\(text)\" is not a valid tool name") }
        return ToolRule(name: text)
    }

    /// Whether this rule covers the tool called `tool` (exactly, or `server.*` for a server's tools).
    public func covers(_ tool: String) -> Bool {
        if name == tool { return true }
        guard name.hasSuffix(".*") else { return false }
        let server = name.dropLast(1)
        return tool.hasPrefix(server) && tool.utf8.count > server.utf8.count
    }

    /// This rule applied to the one tool `tool` it covers (a spec narrowing `notes.*` to
    /// `notes.add` keeps the wildcard's constraints), or nil when it does not cover it.
    public func narrowed(to tool: String) -> ToolRule? {
        guard covers(tool) else { return nil }
        var rule = self
        rule.name = tool
        return rule
    }
}
