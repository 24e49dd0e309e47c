import Glibc
import HostOS
import Specs

/// A run's workspace as the fs tools see it: one directory descriptor opened once, under which
/// every path is resolved by the kernel with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so
/// `..`, absolute paths, symlinks (planted by the agent, which can write its own workspace) and
/// /proc magic links cannot lead out. Policy globs are matched against where a path actually
/// resolved (the descriptor's own path), not against the text the agent sent.
public final class WorkspaceRoot: Sendable {
    /// The directory (O_PATH), the anchor of every resolution.
    let directory: FileDescriptor
    /// Its canonical host path, to turn opened descriptors back into workspace-relative paths.
    public let hostPath: String
    /// Where the agent sees the workspace inside its sandbox (`/workspace`): an absolute path under
    /// it is taken as workspace-relative; any other absolute path is refused by the kernel.
    public let mountPath: String

    /// Opens the workspace at `hostPath`.
    public init(hostPath: String, mountPath: String = "/workspace") throws(Errno) {
        directory = try FileDescriptor.open(hostPath, .readOnly, options: [.directory, .path])
        self.hostPath = directory.resolvedPath() ?? hostPath
        self.mountPath = mountPath
    }

    deinit { try? directory.close() }

    /// The workspace-relative form of a path the agent sent, or a denial. Only the mount prefix is
    /// rewritten; everything else (`..`, other absolute paths) is left to the kernel to refuse.
    func relative(_ path: String) -> Result<String, Refusal> {
        if path.utf8.contains(0) { return .failure(Refusal(result: .denial("path contains a NUL character"))) }
        if path == mountPath || path == mountPath + "/" { return .success(".") }
        if path.hasPrefix(mountPath + "/") { return .success(String(path.dropFirst(mountPath.count + 1))) }
        return .success(path.isEmpty ? "." : path)
    }

    /// A path refused before the kernel sees it.
    struct Refusal: Error { let result: ToolResult }

    /// Opens `relative` beneath the workspace.
    func open(_ relative: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
              permissions: mode_t = 0) throws(Errno) -> FileDescriptor {
        try directory.open(beneath: relative, mode, options: options, permissions: permissions)
    }

    /// Where an opened descriptor lies, relative to the workspace ("" for the root), or nil if the
    /// kernel places it outside (it cannot, after RESOLVE_BENEATH; checked anyway).
    func location(of descriptor: FileDescriptor) -> String? {
        guard let path = descriptor.resolvedPath() else { return nil }
        if path == hostPath { return "" }
        let prefix = hostPath == "/" ? "/" : hostPath + "/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }

    /// Whether the rule's globs allow `location` (no globs: the whole workspace).
    static func allows(_ rule: ToolRule, _ location: String) -> Bool {
        rule.paths.isEmpty || rule.paths.contains { PathGlob.matches($0, location) }
    }

    /// A message for a failed resolution, naming the path as the agent wrote it.
    static func explain(_ error: Errno, path: String) -> ToolResult {
        switch error {
        case .crossDeviceLink:
            return .denial("\(path): resolves outside the workspace (refused)")
        case .tooManySymbolicLinkLevels:
            return .denial("\(path): too many symbolic links, or a /proc magic link (refused)")
        case .noSuchFileOrDirectory:
            return .failure("\(path): no such file or directory")
        case .notDirectory:
            return .failure("\(path): a component is not a directory")
        case .isDirectory:
            return .failure("\(path): is a directory")
        case .permissionDenied, .notPermitted:
            return .failure("\(path): permission denied")
        default:
            return .failure("\(path): \(error)")
        }
    }
}
