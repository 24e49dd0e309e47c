import Glibc

/// Reading spec and policy files from disk and resolving the paths inside them.
enum SpecFile {
    /// Larger files are refused: a policy is a few kilobytes, and a hostile file must not cost memory.
    static let maximumSize = 1 << 20

    /// Reads and parses `path`, mapping every failure to a `SpecError` naming the file.
    static func load(_ path: String) throws(SpecError) -> JSONDocument {
        let bytes = try read(path)
        do {
            return try JSONParser.parseDocument(bytes, file: path)
        } catch {
            throw SpecError(error)
        }
    }

    static func read(_ path: String) throws(SpecError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpecError(code: .io, file: path, message: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpecError(code: .io, file: path, message: "cannot stat: \(errnoText())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SpecError(code: .io, file: path, message: "not a regular file") }
        guard info.st_size <= maximumSize else {
            throw SpecError(code: .io, file: path, message: "file is \(info.st_size) bytes; the limit is \(maximumSize)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while true {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SpecError(code: .io, file: path, message: "cannot read: \(errnoText())") }
            if n == 0 { break }
            count += n
            if count == bytes.count {
                guard count <= maximumSize else { throw SpecError(code: .io, file: path, message: "file grew past \(maximumSize) bytes") }
                bytes.append(contentsOf: repeatElement(0, count: 4096))
            }
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// The directory part of `path` ("." for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` made absolute against the current directory, without resolving symlinks.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let pointer = getcwd(nil, 0) else { return path }
        defer { free(pointer) }
        let cwd = String(cString: pointer)
        return (cwd == "/" ? "" : cwd) + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
    }

    /// `relative` resolved against `directory`, symlinks and `..` resolved; nil when it does not exist.
    static func resolve(_ relative: String, against directory: String) -> String? {
        let joined = relative.hasPrefix("/") ? relative : directory + "/" + relative
        guard let resolved = realpath(joined, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The file type bits of `path` (following symlinks), or nil when it does not exist.
    static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }
}

/// S_IFDIR as a `mode_t` (Glibc exposes it as a macro Swift imports with another type on some builds).
let S_IFDIR_VALUE: mode_t = 0o040000
