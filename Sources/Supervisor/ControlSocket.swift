import Glibc
import HTTPServer
import HostOS

/// The control API's unix socket: who may connect is decided by its owner, group and mode 0660.
/// It is never mounted into a sandbox (agents see only their own root and their broker port).
public enum ControlSocket {
    /// A listening socket at `path`, after making sure no live supervisor answers there: a socket
    /// that accepts connections belongs to a running daemon (refused); one that refuses them is
    /// stale (left by a crash) and replaced. The parent directory is created (0755) if missing.
    public static func listen(path: String) throws(SupervisorError) -> FileDescriptor {
        let parent = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[..<$0]) } ?? "."
        if !parent.isEmpty && access(parent, F_OK) != 0 {
            var current = ""
            for part in parent.split(separator: "/") {
                current += (parent.hasPrefix("/") || !current.isEmpty ? "/" : "") + part
                if mkdir(current, 0o755) != 0 && errno != EEXIST { throw .system("cannot create", current) }
            }
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw SupervisorError(.io, "\(path) exists and is not a socket; refusing to replace it")
            }
            if isAnswering(path) {
                throw SupervisorError(.alreadyRunning, "a supervisor already answers on \(path)")
            }
            unlink(path)
        }
        do throws(HTTPServerError) {
            return try HTTPServer.listenUnix(path: path, mode: 0o660)
        } catch {
            throw SupervisorError(.io, "cannot listen on \(path): \(error)")
        }
    }

    /// True when something accepts connections at `path`.
    public static func isAnswering(_ path: String) -> Bool {
        do throws(HTTPServerError) {
            let connection = try HTTPClientConnection(unixSocket: path)
            connection.close()
            return true
        } catch {
            return false
        }
    }
}
