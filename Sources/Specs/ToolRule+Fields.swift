/// The per-tool fields of a `ToolRule`: path globs, hosts, methods, and which tools each applies to.
extension ToolRule {
    /// The fields that only some tools take, and those tools (MCP server tools are "server").
    static let applicability: [(key: String, tools: [String])] = [
        ("paths", ["fs.read", "fs.write", "fs.list"]),
        ("hosts", ["http.fetch"]),
        ("methods", ["http.fetch"]),
        ("memory", ["code.exec"]),
        ("timeoutSeconds", ["code.exec", "http.fetch", "server"]),
        ("maxBytes", ["fs.read", "fs.write", "code.exec", "http.fetch"]),
    ]

    /// Refuses a field given for a tool it does not constrain.
    func checkApplicable(_ object: JSONObjectReader) throws(SpecError) {
        let kind = ToolRule.builtIn.contains(name) ? name : "server"
        for (key, tools) in ToolRule.applicability where !tools.contains(kind) {
            guard let member = object.optional(key) else { continue }
            let names = tools.map { $0 == "server" ? "MCP server tools" : $0 }.joined(separator: ", ")
            throw member.specError("\"\(key)\" does not apply to \(name) (only to \(names))")
        }
    }

    static func readPaths(_ reader: JSONReader) throws(SpecError) -> [String] {
        var paths: [String] = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let glob = try element.text()
            if let problem = PathGlob.problem(in: glob) { throw element.specError("\"\(glob)\": \(problem)") }
            paths.append(glob)
        }
        return paths
    }

    static func readHosts(_ reader: JSONReader) throws(SpecError) -> [String] {
        var hosts: [String] = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let text = try element.text()
            guard let host = HostPort.parse(text) else {
                throw element.specError("\"\(text)\" is not host or host:port (a DNS name or IPv4 address, port 1-65535; no scheme, no path)")
            }
            hosts.append(host.description)
        }
        return hosts
    }

    static func readMethods(_ reader: JSONReader) throws(SpecError) -> [String] {
        var methods: [String] = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let method = try element.text()
            guard ["GET", "POST"].contains(method) else { throw element.specError("\"\(method)\": http.fetch does GET or POST") }
            methods.append(method)
        }
        return methods
    }
}

/// A host with a port, as policies name them and URLs carry them: a lower-cased DNS name or IPv4
/// address, and a port (80 when not written).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) { self.host = host.lowercased(); self.port = port }

    /// `host` or `host:port`; nil for anything else (schemes, paths, user info, IPv6 literals).
    public static func parse(_ text: String, defaultPort: UInt16 = 80) -> HostPort? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, isHostName(parts[0]) else { return nil }
        var port = defaultPort
        if parts.count == 2 {
            guard let value = UInt16(parts[1]), value > 0, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            port = value
        }
        return HostPort(host: String(parts[0]), port: port)
    }

    /// Letters, digits, `-` and `.`, 1-253 bytes, labels of 1-63 bytes.
    static func isHostName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
            guard label.utf8.allSatisfy({ ToolRule.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    public var description: String { port == 80 ? host : "\(host):\(port)" }
}

/// Workspace path globs: `*` matches within one path component, `**` any number of components,
/// `?` one character; everything else literally. Matching is component by component, O(n·m).
public enum PathGlob {
    /// Why `glob` is not a usable workspace glob, or nil.
    public static func problem(in glob: String) -> String? {
        if glob.hasPrefix("/") { return "globs are relative to the workspace (no leading /)" }
        for component in glob.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty path component" }
            if component == "." || component == ".." { return "'.' and '..' components are not allowed" }
            if component.contains("**") && component != "**" { return "'**' must be a whole component" }
        }
        return nil
    }

    /// Whether the workspace-relative `path` (no `.`/`..`, no leading slash; "" is the root) matches.
    public static func matches(_ glob: String, _ path: String) -> Bool {
        let pattern = glob.split(separator: "/").map { Array($0.unicodeScalars) }
        let parts = path.split(separator: "/").map { Array($0.unicodeScalars) }
        // reachable[j]: the first i pattern components can match the first j path components.
        var reachable = [Bool](repeating: false, count: parts.count + 1)
        reachable[0] = true
        for component in pattern {
            var next = [Bool](repeating: false, count: parts.count + 1)
            if component == Array("**".unicodeScalars) {
                var any = false
                for j in 0...parts.count { any = any || reachable[j]; next[j] = any }
            } else {
                for j in 0..<parts.count where reachable[j] && matchComponent(component, parts[j]) { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[parts.count]
    }

    /// `*` and `?` within one component: the greedy two-pointer matcher, linear in practice and
    /// O(n·m) at worst (no exponential backtracking).
    static func matchComponent(_ pattern: [Unicode.Scalar], _ text: [Unicode.Scalar]) -> Bool {
        var p = 0, t = 0
        var star = -1, mark = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == "?" || pattern[p] == text[t]) {
                p += 1; t += 1
            } else if p < pattern.count && pattern[p] == "*" {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
