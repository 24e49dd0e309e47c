import Glibc
import HostOS
import Specs

/// `fs.write`: replaces (or creates) a file of the workspace atomically: the content goes to a
/// temporary file in the same directory, which is then renamed over the target. The directory is
/// resolved beneath the workspace and held open, so the rename lands where it was checked, and a
/// symlink at the target name is replaced, never followed.
struct FileWriteTool: BrokerTool {
    let workspace: WorkspaceRoot
    static let defaultLimit: UInt64 = 1 << 20

    let descriptor = ToolDescriptor(
        name: "fs.write", description: "Write a file of the workspace (created or replaced atomically).",
        inputSchema: FileWriteTool.schemaJSON, annotations: ToolDescriptor.hints(readOnly: false, destructive: true, idempotent: true))
    let schema = ToolArguments.schema(FileWriteTool.schemaText)

    static let schemaText = #"""
    {"type": "object", "additionalProperties": false, "required": ["path", "content"],
     "properties": {"path": {"type": "string", "minLength": 1, "maxLength": 4096, "description": "file to write"},
                    "content": {"type": "string", "description": "the new content (UTF-8)"},
                    "createDirectories": {"type": "boolean", "description": "create missing parent directories"}}}
    """#
    static let schemaJSON = ToolArguments.schema(schemaText).json

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        let path = ToolArguments.string(arguments, "path") ?? ""
        let content = ToolArguments.string(arguments, "content") ?? ""
        let limit = rule.maxBytes ?? Self.defaultLimit
        guard UInt64(content.utf8.count) <= limit else {
            return .denial("content is \(content.utf8.count) bytes; fs.write allows at most \(limit)")
        }
        let relative: String
        switch workspace.relative(path) {
        case .success(let value): relative = value
        case .failure(let refusal): return refusal.result
        }
        let (parentPath, name) = Self.split(relative)
        guard !name.isEmpty, name != ".", name != ".." else { return .failure("\(path): not a file name") }
        let parent: FileDescriptor
        do {
            parent = try openParent(parentPath, create: ToolArguments.bool(arguments, "createDirectories") ?? false)
        } catch {
            return WorkspaceRoot.explain(error, path: path)
        }
        defer { try? parent.close() }
        guard let directory = workspace.location(of: parent) else { return .denial("\(path): outside the workspace") }
        let location = directory.isEmpty ? name : directory + "/" + name
        guard WorkspaceRoot.allows(rule, location) else {
            return .denial("\(path): not among the paths the policy allows fs.write (\(rule.paths.joined(separator: ", ")))")
        }
        do { try Self.replace(name, in: parent, with: Array(content.utf8)) } catch { return WorkspaceRoot.explain(error, path: path) }
        return ToolResult(text: "wrote \(content.utf8.count) bytes to \(location)",
                          structured: ["path": .string(location), "bytes": .number(JSONNumber(content.utf8.count))])
    }

    /// "a/b/c.txt" -> ("a/b", "c.txt"); "c.txt" -> (".", "c.txt").
    static func split(_ path: String) -> (String, String) {
        var trimmed = Substring(path)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let parent = trimmed[..<slash]
        return (parent.isEmpty ? "/" : String(parent), String(trimmed[trimmed.index(after: slash)...]))
    }

    /// The parent directory, resolved beneath the workspace; with `create`, each missing
    /// component is made (mkdirat in the already-resolved directory above it).
    func openParent(_ path: String, create: Bool) throws(Errno) -> FileDescriptor {
        do {
            return try workspace.open(path, .readOnly, options: [.directory, .path])
        } catch where create && error == .noSuchFileOrDirectory {
            // Made one component at a time, so `..` would climb out of what was just made and
            // leave directories behind before the kernel refuses: refused up front instead.
            guard !path.split(separator: "/").contains("..") else { throw Errno.crossDeviceLink }
            var current = try workspace.open(".", .readOnly, options: [.directory, .path])
            for component in path.split(separator: "/") {
                let name = String(component)
                do { try current.makeDirectory(entry: name) } catch where error == .fileExists {}
                let next: FileDescriptor
                do { next = try current.open(beneath: name, .readOnly, options: [.directory, .path]) } catch {
                    try? current.close()
                    throw error
                }
                try? current.close()
                current = next
            }
            return current
        }
    }

    /// Writes a temporary file next to `name` and renames it over `name`. New files belong to the
    /// directory's owner, so the agent (which owns its workspace) can change them afterwards.
    static func replace(_ name: String, in directory: FileDescriptor, with bytes: [UInt8]) throws(Errno) {
        let temporary = ".warden-write-\(UInt64.random(in: 0...UInt64.max))"
        let file = try directory.open(beneath: temporary, .writeOnly, options: [.create, .exclusiveCreate, .noFollow],
                                      permissions: 0o644)
        do {
            defer { try? file.close() }  // exactly once: a second close could hit a reused number
            try file.writeAll(bytes)
            try file.synchronize()
            let owner = try directory.status()
            if geteuid() == 0 { try file.changeOwner(user: owner.owner, group: owner.group) }
        } catch {
            try? directory.remove(entry: temporary)
            throw error
        }
        do { try directory.rename(entry: temporary, to: name) } catch {
            try? directory.remove(entry: temporary)
            throw error
        }
    }
}
