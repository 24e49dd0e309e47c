/// One tool an agent may call through the broker, with the constraints on its arguments.
///
/// ```
/// {"name": "fs.read", "paths": ["notes/**", "*.md"], "maxBytes": "1MiB"}
/// {"name": "fs.write", "paths": ["out/**"], "maxBytes": "256KiB"}
/// {"name": "code.exec", "timeoutSeconds": 10, "memory": "128MiB", "maxBytes": "64KiB"}
/// {"name": "http.fetch", "hosts": ["127.0.0.1:8081", "example.org"], "methods": ["GET"], "maxBytes": "1MiB"}
/// {"name": "notes.add", "arguments": {"type": "object", "properties": {"text": {"maxLength": 200}}}}
/// {"name": "notes.*"}                                    // every tool of the spec's MCP server "notes"
/// ```
///
/// Every field but `name` is optional; a field that does not apply to the tool is an error (a
/// `paths` on `http.fetch` would otherwise look like a restriction and restrict nothing).
public struct ToolRule: Sendable {
    /// `fs.read`, `fs.write`, `fs.list`, `code.exec`, `http.fetch`, or `server.tool` (or `server.*`)
    /// for a spec's MCP server.
    public var name: String
    /// A JSON Schema (subset) the call's arguments must also satisfy, on top of the tool's own schema.
    public var arguments: ArgumentSchema?
    /// fs.*: workspace-relative globs the resolved path must match (`*` within a component, `**`
    /// across components, `?` one character); empty: the whole workspace.
    public var paths: [String]
    /// http.fetch: hosts (`host` or `host:port`, port 80 when absent) that may be fetched; none
    /// listed: every fetch is refused (the tool is offered, so the agent learns why).
    public var hosts: [String]
    /// http.fetch: allowed methods (`GET`, `POST`); empty: both.
    public var methods: [String]
    /// Bytes a call may read, write, fetch or print (per stream for code.exec); nil: the tool's default.
    public var maxBytes: UInt64?
    /// code.exec, http.fetch, MCP server tools: wall-clock limit of one call; nil: the tool's default.
    public var timeoutMilliseconds: Int64?
    /// code.exec: memory of the nested sandbox; never above the strict policy's.
    public var memoryBytes: UInt64?

    public init(name: String, arguments: ArgumentSchema? = nil, paths: [String] = [], hosts: [String] = [],
                methods: [String] = [], maxBytes: UInt64? = nil, timeoutMilliseconds: Int64? = nil, memoryBytes: UInt64? = nil) {
        self.name = name; self.arguments = arguments; self.paths = paths; self.hosts = hosts; self.methods = methods
        self.maxBytes = maxBytes; self.timeoutMilliseconds = timeoutMilliseconds; self.memoryBytes = memoryBytes
    }

    /// This rule applied to the one tool `tool` it covers (a spec narrowing `notes.*` to
    /// `notes.add` keeps the wildcard's constraints), or nil when it does not cover it.
    public func narrowed(to tool: String) -> ToolRule? {
        guard covers(tool) else { return nil }
        var rule = self
        rule.name = tool
        return rule
    }

    /// The built-in tools.
    public static let builtIn = ["fs.read", "fs.write", "fs.list", "code.exec", "http.fetch"]

    static let keys = ["name", "arguments", "paths", "hosts", "methods", "maxBytes", "timeoutSeconds", "memory", "comment"]

    /// Whether this rule covers the tool called `tool` (exactly, or `server.*` for a server's tools).
    public func covers(_ tool: String) -> Bool {
        if name == tool { return true }
        guard name.hasSuffix(".*") else { return false }
        let server = name.dropLast(1)
        return tool.hasPrefix(server) && tool.utf8.count > server.utf8.count && !ToolRule.builtIn.contains(tool)
    }

    /// Reads one rule of a policy's (or spec's) `broker.tools` list.
    public static func read(_ reader: JSONReader) throws(SpecError) -> ToolRule {
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        let nameReader: JSONReader
        do { nameReader = try object.required("name") } catch { throw SpecError(error) }
        let name = try readName(nameReader)
        var rule = ToolRule(name: name)
        if let schema = object.optional("arguments") { rule.arguments = try ArgumentSchema.read(schema) }
        if let paths = object.optional("paths") { rule.paths = try readPaths(paths) }
        if let hosts = object.optional("hosts") { rule.hosts = try readHosts(hosts) }
        if let methods = object.optional("methods") { rule.methods = try readMethods(methods) }
        if let size = object.optional("maxBytes") { rule.maxBytes = try size.byteSize(in: 1...(1 << 30)) }
        if let seconds = object.optional("timeoutSeconds") {
            rule.timeoutMilliseconds = try seconds.fixedPoint(scale: 3, in: 1...3_600_000, unit: "seconds")
        }
        if let memory = object.optional("memory") { rule.memoryBytes = try memory.byteSize(in: (4 << 20)...(1 << 40)) }
        try rule.checkApplicable(object)
        return rule
    }

    /// Reads a whole `tools` list; a tool named twice is an error (which rule would hold?).
    public static func readList(_ reader: JSONReader) throws(SpecError) -> [ToolRule] {
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        var rules: [ToolRule] = []
        for element in elements {
            let rule = try read(element)
            if rules.contains(where: { $0.name == rule.name }) {
                throw element.specError("tool \"\(rule.name)\" is listed twice")
            }
            rules.append(rule)
        }
        return rules
    }

    /// A tool name: a built-in, or `server.tool` / `server.*` with a valid server name and an MCP
    /// tool name (1-128 of A-Z a-z 0-9 _ . -).
    static func readName(_ reader: JSONReader) throws(SpecError) -> String {
        let name = try reader.text()
        if builtIn.contains(name) { return name }
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let toolOK = parts.count == 2 && (parts[1] == "*" || isToolName(parts[1]))
        guard toolOK, isServerName(parts[0]) else {
            var message = "unknown tool \"\(name)\": use one of \(builtIn.joined(separator: ", ")), or server.tool / server.* for an MCP server"
            if let guess = Spelling.suggestion(for: name, among: builtIn) { message += "; did you mean \"\(guess)\"?" }
            throw reader.specError(message)
        }
        if ["fs", "code", "http"].contains(String(parts[0])) {
            var message = "unknown tool \"\(name)\": \"\(parts[0])\" is reserved for built-in tools (\(builtIn.joined(separator: ", ")))"
            if let guess = Spelling.suggestion(for: name, among: builtIn) { message += "; did you mean \"\(guess)\"?" }
            throw reader.specError(message)
        }
        return name
    }

    static func isServerName(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 64, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// MCP's tool-name rule (2025-11-25 server/tools: 1-128 characters of A-Z a-z 0-9 _ - .).
    public static func isToolName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 128 else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
