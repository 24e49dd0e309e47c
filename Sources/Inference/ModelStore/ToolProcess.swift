import HostOS
import Glibc

/// Runs a helper program (pip, python's zipfile) to completion with its output sent to a log file.
/// `posix_spawnp` rather than fork: the caller may be multi-threaded (DESIGN.md, decision 3).
enum ToolProcess {
    /// Runs `arguments` (searched on PATH), appending stdout and stderr to `logPath`; returns the exit
    /// status, or 128 + signal when it was killed.
    static func run(_ arguments: [String], logPath: String) throws(InferenceError) -> Int32 {
        guard let program = arguments.first else { return 127 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw InferenceError(.modelFetch, "cannot run \(program): \(String(cString: strerror(rc))) (set WARDEN_PYTHON to a Python with pip)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw InferenceError(.modelFetch, "waiting for \(program): \(String(cString: strerror(errno)))")
            }
        }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// The last `lines` lines of a text file (for error messages), or "" when unreadable.
    static func tail(of path: String, lines: Int = 8) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 65536 { bytes.removeFirst(bytes.count - 65536) }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Small file-system steps of a pull, with errors that name the path.
enum FileSteps {
    static func makeDirectories(_ path: String) throws(InferenceError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw InferenceError(.io, "cannot create directory: \(String(cString: strerror(errno)))", path: prefix)
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Flushes a file (or directory) to disk, so a rename that follows survives a crash.
    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Removes a directory tree without following symlinks (it only ever holds what a pull wrote).
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in entries(of: path) { removeTree(path + "/" + name) }
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func entries(of directory: String) -> [String] {
        ((try? FileDescriptor.directoryEntries(atPath: directory)) ?? []).map(\.name)
    }

    /// The first entry of `directory` whose name ends with `suffix`.
    static func firstEntry(in directory: String, withSuffix suffix: String) -> String? {
        entries(of: directory).sorted().first { $0.hasSuffix(suffix) }.map { directory + "/" + $0 }
    }
}
