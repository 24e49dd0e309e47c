import Glibc

/// The per-run writable directory mounted at /workspace: the caller's, or a fresh temporary one
/// owned by the sandbox's host uid that is removed after the run.
public struct RunWorkspace: Sendable {
    /// The host path.
    public let path: String
    /// True if we created it (and so remove it afterwards).
    public let isTemporary: Bool

    /// Uses an existing directory as the workspace.
    public static func existing(_ path: String) throws(SandboxRun.Error) -> RunWorkspace {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SandboxRun.Error(.workspace, "workspace \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SandboxRun.Error(.workspace, "workspace \(path): not a directory")
        }
        return RunWorkspace(path: absolute(path), isTemporary: false)
    }

    /// Creates a fresh directory under `parent` (default $TMPDIR, else /tmp) owned by `uid`:`gid`, mode 0700.
    public static func temporary(uid: UInt32, gid: UInt32, in parent: String? = nil) throws(SandboxRun.Error) -> RunWorkspace {
        let base = parent ?? getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/warden-workspace-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { $0.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else {
            throw SandboxRun.Error(.workspace, "cannot create a workspace under \(base): \(String(cString: strerror(errno)))")
        }
        let path = String(cString: made)
        // The agent runs as an unprivileged host uid; the directory must be its own to be writable.
        if chown(path, uid, gid) != 0 {
            let failure = errno
            rmdir(path)
            throw SandboxRun.Error(.workspace, "cannot hand the workspace \(path) to uid \(uid): \(String(cString: strerror(failure)))")
        }
        return RunWorkspace(path: path, isTemporary: true)
    }

    /// Removes a temporary workspace and everything the agent left in it (symlinks are removed,
    /// never followed).
    public func removeIfTemporary() {
        guard isTemporary else { return }
        RunWorkspace.removeTree(at: path)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    /// Depth-first removal through directory fds (openat with O_NOFOLLOW), so a symlink planted by
    /// the agent cannot redirect the removal to a host directory.
    static func removeTree(at path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { removeContents(of: fd) }
        rmdir(path)
    }

    static func removeContents(of fd: Int32) {
        guard let dir = fdopendir(fd) else { close(fd); return }
        defer { closedir(dir) }
        var names: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append((name, entry.pointee.d_type == UInt8(DT_DIR)))
        }
        let dirfd = Glibc.dirfd(dir)
        for (name, isDirectory) in names {
            if isDirectory {
                let child = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { removeContents(of: child) }
                unlinkat(dirfd, name, AT_REMOVEDIR)
            } else {
                unlinkat(dirfd, name, 0)
            }
        }
    }
}
