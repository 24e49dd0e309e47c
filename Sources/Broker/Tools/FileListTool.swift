import HostOS
import Specs

/// `fs.list`: the entries of a workspace directory, with their kinds and (for files) sizes.
/// Symlinks are reported as symlinks and not followed.
struct FileListTool: BrokerTool {
    let workspace: WorkspaceRoot
    static let defaultEntries = 1000

    let descriptor = ToolDescriptor(
        name: "fs.list", description: "List a directory of the workspace (default: its root).",
        inputSchema: FileListTool.schemaJSON, annotations: ToolDescriptor.hints(readOnly: true, idempotent: true))
    let schema = ToolArguments.schema(FileListTool.schemaText)

    static let schemaText = #"""
    {"type": "object", "additionalProperties": false,
     "properties": {"path": {"type": "string", "maxLength": 4096, "description": "directory to list"},
                    "maxEntries": {"type": "integer", "minimum": 1, "maximum": 10000}}}
    """#
    static let schemaJSON = ToolArguments.schema(schemaText).json

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        let path = ToolArguments.string(arguments, "path") ?? "."
        let relative: String
        switch workspace.relative(path) {
        case .success(let value): relative = value
        case .failure(let refusal): return refusal.result
        }
        let directory: FileDescriptor
        do { directory = try workspace.open(relative, .readOnly, options: [.directory, .nonBlocking]) } catch {
            return WorkspaceRoot.explain(error, path: path)
        }
        defer { try? directory.close() }
        guard let location = workspace.location(of: directory), WorkspaceRoot.allows(rule, location) else {
            return .denial("\(path): not among the paths the policy allows fs.list (\(rule.paths.joined(separator: ", ")))")
        }
        let limit = Int(ToolArguments.integer(arguments, "maxEntries") ?? Int64(Self.defaultEntries))
        let listing: (entries: [(name: String, kind: FileDescriptor.FileKind)], truncated: Bool)
        do { listing = try directory.directoryEntries(limit: limit) } catch { return .failure("\(path): \(error)") }
        var lines: [String] = []
        var entries: [JSONValue] = []
        for entry in listing.entries.sorted(by: { $0.name < $1.name }) {
            var object = JSONObject([("name", .string(entry.name)), ("type", .string(entry.kind.rawValue))])
            if entry.kind == .regular, let size = try? directory.status(ofEntry: entry.name).size {
                object["size"] = .number(JSONNumber(size))
            }
            entries.append(.object(object))
            lines.append(entry.kind == .directory ? entry.name + "/" : entry.name)
        }
        if listing.truncated { lines.append("... (more than \(limit) entries)") }
        let structured = JSONObject([("path", .string(location.isEmpty ? "." : location)), ("entries", .array(entries)),
                                     ("truncated", .bool(listing.truncated))])
        return ToolResult(text: lines.joined(separator: "\n"), structured: structured)
    }
}
