import Glibc

/// A host directory given as the run's workspace (mounted read-write at /workspace). Without
/// one, the run gets a fresh tmpfs there instead (see RunSetup), or, when the broker's fs tools
/// need to see the workspace from the host, a fresh host directory (RunWorkspace+Temporary.swift).
public struct RunWorkspace: Sendable {
    /// The absolute host path.
    public let path: String
    /// Whether the run made this directory (and `remove()` may delete it), rather than the user.
    public private(set) var isTemporary = false

    /// Uses an existing directory as the workspace.
    public static func existing(_ path: String) throws(SandboxRun.Error) -> RunWorkspace {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SandboxRun.Error(.workspace, "workspace \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SandboxRun.Error(.workspace, "workspace \(path): not a directory")
        }
        return RunWorkspace(path: absolute(path))
    }

    /// The size of a fresh (tmpfs) workspace when the run has no memory limit to cap it.
    public static let defaultTemporarySize: UInt64 = 256 << 20

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }
}
