/// The sandbox's filesystem view: a fresh tmpfs root holding only what is listed here, plus the
/// /proc and minimal /dev that the launcher always mounts.
public struct FilesystemPolicy: Sendable {
    /// A host path bind-mounted into the sandbox (nosuid, nodev; read-only unless `readOnly` is false).
    public struct Bind: Equatable, Sendable {
        /// Absolute host path.
        public var source: String
        /// Absolute path inside the sandbox.
        public var target: String
        public var readOnly: Bool
        /// When true, a missing source is skipped instead of being an error.
        public var optional: Bool
    }

    /// A symbolic link created in the sandbox root (e.g. /bin → usr/bin on merged-/usr systems).
    public struct Symlink: Equatable, Sendable {
        public var path: String
        public var target: String
    }

    /// A size-limited tmpfs.
    public struct Tmpfs: Equatable, Sendable {
        public var path: String
        public var sizeBytes: UInt64
        public var mode: UInt32
    }

    /// Where the per-run writable workspace is mounted.
    public struct Workspace: Equatable, Sendable {
        public var path: String
    }

    /// Mounted in listed order; a missing optional source is left out here already.
    public var binds: [Bind]
    public var symlinks: [Symlink]
    public var tmpfs: [Tmpfs]
    public var workspace: Workspace?

    /// Paths the launcher owns: /proc and /dev are always mounted fresh, and /agent holds a spec's code.
    public static let reservedTargets = ["/proc", "/dev", "/agent"]

    static func read(_ reader: JSONReader) throws(SpecError) -> FilesystemPolicy {
        let object: JSONObjectReader
        do { object = try reader.object(keys: ["binds", "symlinks", "tmpfs", "workspace"]) } catch { throw SpecError(error) }
        var targets = TargetSet()
        var result = FilesystemPolicy(binds: [], symlinks: [], tmpfs: [], workspace: nil)
        for entry in try elements(object.optional("binds")) {
            if let bind = try readBind(entry, targets: &targets) { result.binds.append(bind) }
        }
        for entry in try elements(object.optional("symlinks")) {
            let link: JSONObjectReader
            let parts: (JSONReader, JSONReader)
            do {
                link = try entry.object(keys: ["path", "target"])
                parts = (try link.required("path"), try link.required("target"))
            } catch { throw SpecError(error) }
            let path = try parts.0.sandboxPath()
            try targets.claim(path, parts.0)
            result.symlinks.append(Symlink(path: path, target: try parts.1.text()))
        }
        for entry in try elements(object.optional("tmpfs")) {
            result.tmpfs.append(try readTmpfs(entry, targets: &targets))
        }
        if let workspace = object.optional("workspace") {
            let path: JSONReader
            do { path = try workspace.object(keys: ["path"]).required("path") } catch { throw SpecError(error) }
            let target = try path.sandboxPath()
            try targets.claim(target, path)
            result.workspace = Workspace(path: target)
        }
        return result
    }

    static func elements(_ reader: JSONReader?) throws(SpecError) -> [JSONReader] {
        guard let reader else { return [] }
        do { return try reader.array() } catch { throw SpecError(error) }
    }

    static func readBind(_ entry: JSONReader, targets: inout TargetSet) throws(SpecError) -> Bind? {
        let object: JSONObjectReader
        let sourceReader: JSONReader
        do {
            object = try entry.object(keys: ["source", "target", "readOnly", "optional"])
            sourceReader = try object.required("source")
        } catch { throw SpecError(error) }
        let source = try sourceReader.sandboxPath(allowRoot: false)
        let targetReader = object.optional("target") ?? sourceReader
        let target = try targetReader.sandboxPath()
        let readOnly: Bool, optional: Bool
        do {
            readOnly = try object.optional("readOnly")?.bool() ?? true
            optional = try object.optional("optional")?.bool() ?? false
        } catch { throw SpecError(error) }
        try targets.claim(target, targetReader)
        guard SpecFile.fileType(source) != nil else {
            if optional { return nil }
            throw sourceReader.specError("bind source \"\(source)\" does not exist on this host (mark it \"optional\": true if that is expected)")
        }
        return Bind(source: source, target: target, readOnly: readOnly, optional: optional)
    }

    static func readTmpfs(_ entry: JSONReader, targets: inout TargetSet) throws(SpecError) -> Tmpfs {
        let object: JSONObjectReader
        let pathReader: JSONReader, sizeReader: JSONReader
        do {
            object = try entry.object(keys: ["path", "size", "mode"])
            pathReader = try object.required("path"); sizeReader = try object.required("size")
        } catch { throw SpecError(error) }
        let path = try pathReader.sandboxPath()
        try targets.claim(path, pathReader)
        let size = try sizeReader.byteSize(in: 4096...(1 << 40))
        var mode: UInt32 = 0o1777
        if let modeReader = object.optional("mode") {
            let text = try modeReader.text()
            guard text.utf8.count <= 4, let parsed = UInt32(text, radix: 8), parsed <= 0o7777 else {
                throw modeReader.specError("\"\(text)\" is not an octal mode such as \"1777\" or \"0755\"")
            }
            mode = parsed
        }
        return Tmpfs(path: path, sizeBytes: size, mode: mode)
    }

    /// Mount targets seen so far: each may be used once, and none may take a launcher-owned path.
    struct TargetSet {
        var seen: [String: JSONReader] = [:]

        mutating func claim(_ target: String, _ reader: JSONReader) throws(SpecError) {
            let normalized = PathRules.normalized(target)
            if let reserved = FilesystemPolicy.reservedTargets.first(where: { PathRules.isWithin(normalized, $0) }) {
                throw reader.specError("\(reserved) is managed by the launcher and cannot be a mount target")
            }
            if let first = seen[normalized] { throw reader.specError("\(normalized) is already used at \(first.path)") }
            seen[normalized] = reader
        }
    }
}
