import HostOS
import Glibc

/// The few file operations the trace store needs, over Glibc, with EINTR retried here and nowhere else.
enum TraceFileIO {
    /// Opens `path`; `mode` applies when O_CREAT creates it.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws(TraceError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            let code = errno
            if code == ENOENT { throw TraceError(.notFound, "no such file", file: path, errno: code) }
            throw TraceError.system("open", path, errno: code)
        }
    }

    /// Writes all of `bytes` at the file offset (O_APPEND files: at the end); returns 0 or the errno.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.isEmpty ? 0 : bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// fdatasync, EINTR retried; returns 0 or the errno.
    static func dataSync(_ fd: Int32) -> Int32 {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            return errno
        }
        return 0
    }

    /// Reads `count` bytes at `offset` (fewer only at end of file).
    static func read(_ fd: Int32, count: Int, at offset: Int64, path: String) throws(TraceError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TraceError.system("pread", path)
            }
            if n == 0 { break }
            done += n
        }
        out.removeLast(count - done)
        return out
    }

    /// The whole file.
    static func readFile(_ path: String) throws(TraceError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try self.size(fd, path: path)
        return try read(fd, count: Int(size), at: 0, path: path)
    }

    static func size(_ fd: Int32, path: String) throws(TraceError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TraceError.system("fstat", path) }
        return Int64(info.st_size)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates `path` and its parents (mode 0750), like `mkdir -p`.
    static func makeDirectories(_ path: String) throws(TraceError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST { throw TraceError.system("mkdir", prefix) }
        }
    }

    /// Syncs a directory so a created or renamed entry survives a crash.
    static func syncDirectory(_ path: String) throws(TraceError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        let code = dataSync(fd)
        if code != 0 { throw TraceError.system("fsync", path, errno: code) }
    }

    /// The names in a directory, sorted, without "." and "..".
    static func list(_ path: String) throws(TraceError) -> [String] {
        do throws(Errno) {
            return try FileDescriptor.directoryEntries(atPath: path).map(\.name).sorted()
        } catch {
            if error == .noSuchFileOrDirectory { return [] }
            errno = error.rawValue
            throw TraceError.system("opendir", path)
        }
    }

    /// Writes a whole new file (create, write, fdatasync); fails if it exists.
    static func createFile(_ path: String, contents: [UInt8]) throws(TraceError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL)
        defer { close(fd) }
        var code = writeAll(fd, contents)
        if code == 0 { code = dataSync(fd) }
        if code != 0 { throw TraceError.system("write", path, errno: code) }
    }
}
