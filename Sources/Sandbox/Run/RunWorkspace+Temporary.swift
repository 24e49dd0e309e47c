import Glibc
import HostOS

/// A fresh host directory as a run's workspace: for runs whose broker has fs tools, which work on
/// the workspace from the host (openat2 beneath a directory descriptor) and so cannot see a tmpfs
/// that lives only in the sandbox's mount namespace.
///
/// Unlike the tmpfs, such a workspace is not size-bounded as a whole: each file the agent writes
/// is bounded by the run's RLIMIT_FSIZE, but the number of files only by the host's disk.
extension RunWorkspace {
    /// Where fresh host workspaces are made: `$WARDEN_WORKSPACE_DIR`, else
    /// /var/lib/warden/workspaces as root, else `$TMPDIR` or /tmp.
    public static func temporaryParent() -> String {
        if let explicit = environmentValue("WARDEN_WORKSPACE_DIR") { return explicit }
        if geteuid() == 0 { return "/var/lib/warden/workspaces" }
        return environmentValue("TMPDIR") ?? "/tmp"
    }

    /// Makes a private (0700) directory under `parent` (itself created 0700 if missing), owned by
    /// the agent's host ids so that the agent can write it. Nothing is left behind on failure.
    public static func temporaryHost(owner: SandboxIdentity, parent: String = temporaryParent()) throws(SandboxRun.Error) -> RunWorkspace {
        let base = absolute(parent)
        try makeDirectories(base)
        var template = Array((base + "/run-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else {
            let error = Errno.current
            throw SandboxRun.Error(.workspace, "cannot create a workspace under \(base): \(error)", errno: error.rawValue)
        }
        let workspace = RunWorkspace(path: String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                                     isTemporary: true)
        do throws(Errno) {
            // Through a descriptor opened without following: the chown lands on the directory made.
            let directory = try FileDescriptor.open(workspace.path, .readOnly, options: [.directory, .noFollow])
            defer { try? directory.close() }
            if geteuid() != owner.hostUID || getegid() != owner.hostGID {
                try directory.changeOwner(user: owner.hostUID, group: owner.hostGID)
            }
        } catch {
            try? workspace.remove()
            throw SandboxRun.Error(.workspace, "cannot hand the workspace \(workspace.path) to uid \(owner.hostUID): \(error)",
                                   errno: error.rawValue)
        }
        return workspace
    }

    /// Deletes a temporary workspace and everything the agent left in it, walking directory
    /// descriptors and never following a symlink (one the agent planted stays a name to unlink).
    public func remove() throws(SandboxRun.Error) {
        guard isTemporary, let slash = path.lastIndex(of: "/") else {
            throw SandboxRun.Error(.workspace, "refusing to remove \(path): the run did not create it")
        }
        let parentPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        do throws(Errno) {
            let parent = try FileDescriptor.open(parentPath, .readOnly, options: [.directory])
            defer { try? parent.close() }
            try Self.removeTree(named: name, in: parent)
        } catch {
            throw SandboxRun.Error(.workspace, "cannot remove the workspace \(path): \(error)", errno: error.rawValue)
        }
    }

    /// One path component, no symlink, no mount crossing: how the removal opens a subdirectory.
    static let oneStep: FileDescriptor.ResolveOptions = [.beneath, .noSymlinks, .noMagicLinks, .noCrossDevice]

    /// Empties and removes directory `name` of `parent`, depth first, with one descriptor open at a
    /// time whatever the depth: going back up is `..` of the current directory, checked to be the
    /// directory we came down from (device and inode) before anything is removed in it.
    static func removeTree(named name: String, in parent: FileDescriptor) throws(Errno) {
        var current = try parent.open(beneath: name, .readOnly, options: [.directory, .noFollow], resolve: oneStep)
        defer { try? current.close() }
        var trail: [(name: String, id: FileID)] = []   // the directories above `current`, below `name`
        while true {
            if let child = try nextSubdirectory(emptying: current) {
                let above = try FileID.of(current)
                let below = try current.open(beneath: child, .readOnly, options: [.directory, .noFollow], resolve: oneStep)
                try? current.close()
                current = below
                trail.append((child, above))
                continue
            }
            guard let (emptied, expected) = trail.popLast() else { break }
            let up = try current.open(beneath: "..", .readOnly, options: [.directory, .noFollow], resolve: [.noCrossDevice])
            try? current.close()
            current = up
            guard try FileID.of(current) == expected else { throw Errno(rawValue: ESTALE) }
            try current.remove(entry: emptied, directory: true)
        }
        try parent.remove(entry: name, directory: true)
    }

    /// Unlinks every entry of `directory` that is not a directory; returns the first subdirectory
    /// (still to be emptied), or nil once the directory is empty.
    static func nextSubdirectory(emptying directory: FileDescriptor) throws(Errno) -> String? {
        while true {
            let listing = try directory.directoryEntries(limit: 256)
            if listing.entries.isEmpty { return nil }
            for entry in listing.entries {
                if entry.kind == .directory { return entry.name }
                do { try directory.remove(entry: entry.name) } catch {
                    // A file system without d_type reports kinds as "other": unlink says EISDIR.
                    if error.rawValue == EISDIR { return entry.name }
                    if error != .noSuchFileOrDirectory { throw error }
                }
            }
        }
    }

    /// A directory's identity (device, inode), to check that `..` leads where we came from.
    struct FileID: Equatable {
        var device: UInt64
        var inode: UInt64

        static func of(_ fd: FileDescriptor) throws(Errno) -> FileID {
            var info = stat()
            guard fstat(fd.rawValue, &info) == 0 else { throw Errno.current }
            return FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
    }

    /// Makes `path` and any missing parents, each 0700 (an existing directory is left as it is).
    static func makeDirectories(_ path: String) throws(SandboxRun.Error) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 || errno == EEXIST { continue }
            let error = Errno.current
            throw SandboxRun.Error(.workspace, "cannot create \(prefix): \(error)", errno: error.rawValue)
        }
    }

    static func environmentValue(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
