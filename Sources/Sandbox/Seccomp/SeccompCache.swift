import Glibc
import Specs

/// An on-disk cache of compiled filters, so `warden exec` does not pay libseccomp's compile time on
/// every launch.
///
/// Files are keyed by a hash of the key text (cache format, compiler revision, libseccomp version,
/// architecture, and the policy's seccomp section in canonical JSON), and each file stores the full
/// key text, compared byte for byte on load: a hash collision can only cause a miss, never the wrong
/// filter. A file or directory not owned by the effective uid, or writable by group or others, is
/// ignored, since whoever can write it could weaken every sandbox. Writes go to a temporary file
/// renamed into place, and a trailing checksum turns torn or corrupted files into misses.
public enum SeccompCache {
    /// Bump when the compiler's output for the same policy changes (new rule encodings, constants).
    static let compilerRevision = 1
    static let magic: [UInt8] = Array("WSECCOMP".utf8)

    /// How `compileCached` obtained its program.
    public enum Outcome: Equatable, Sendable {
        /// Loaded from a valid cache file.
        case hit
        /// Compiled; `stored` tells whether the cache file was written.
        case compiled(stored: Bool)
        /// Compiled without the cache, which was unusable for the given reason.
        case bypassed(reason: String)
    }

    /// A program and where it came from.
    public struct Result: Sendable {
        public var program: SeccompProgram
        public var outcome: Outcome
    }

    /// `$WARDEN_CACHE_DIR`, else `/var/cache/warden/seccomp` for root, else `$XDG_CACHE_HOME/warden/seccomp`,
    /// else `$HOME/.cache/warden/seccomp`; nil when none can be determined.
    public static func defaultDirectory() -> String? {
        if let dir = environment("WARDEN_CACHE_DIR") { return dir }
        if geteuid() == 0 { return "/var/cache/warden/seccomp" }
        if let xdg = environment("XDG_CACHE_HOME"), xdg.hasPrefix("/") { return xdg + "/warden/seccomp" }
        if let home = environment("HOME"), home.hasPrefix("/") { return home + "/.cache/warden/seccomp" }
        return nil
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    /// The exact text a cache entry must match.
    static func key(for profile: SeccompProfile) -> [UInt8] {
        let header = "warden seccomp cache 1\ncompiler \(compilerRevision)\nlibseccomp \(SeccompCompiler.libseccompVersion)\narch x86_64\n"
        return Array(header.utf8) + profile.canonicalJSON
    }

    /// The cache file for `key` in `directory`.
    static func path(for key: [UInt8], in directory: String) -> String {
        let hash = Checksum.fnv1a64(key)
        let hex = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".bpf"
    }

    /// Loads the program for `key` from `path`; nil when absent, foreign, unsafe, corrupt or for another key.
    static func load(key: [UInt8], path: String) -> SeccompProgram? {
        load(path: path) { CacheFileFormat.decode($0, expectedKey: key) }
    }

    /// Reads a cache file and decodes it; nil when absent, not a regular file of ours, writable by
    /// group or others, larger than 1 MiB, or when `decode` rejects it.
    static func load<T>(path: String, decode: ([UInt8]) -> T?) -> T? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(),
              info.st_mode & 0o022 == 0, info.st_size > 0, info.st_size <= 1 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count == bytes.count else { return nil }
        return decode(bytes)
    }

    /// Writes `program` for `key` to `path` atomically; false on any failure (the cache is best effort).
    static func store(_ program: SeccompProgram, key: [UInt8], path: String) -> Bool {
        store(CacheFileFormat.encode(program, key: key), path: path)
    }

    /// Writes a whole cache file atomically (temporary file, then rename); false on any failure.
    static func store(_ bytes: [UInt8], path: String) -> Bool {
        let temporary = path + ".tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            written += n
        }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// Creates `directory` (mode 0700) if needed and checks that only we can write it; nil when usable.
    static func prepare(_ directory: String) -> String? {
        var info = stat()
        if lstat(directory, &info) != 0 {
            guard errno == ENOENT else { return "cannot inspect \(directory): \(String(cString: strerror(errno)))" }
            if let problem = makeDirectories(directory) { return problem }
            guard lstat(directory, &info) == 0 else { return "cannot create \(directory)" }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(directory) is not a directory" }
        guard info.st_uid == geteuid() else { return "\(directory) is owned by uid \(info.st_uid), not \(geteuid())" }
        guard info.st_mode & 0o022 == 0 else { return "\(directory) is writable by group or others" }
        return nil
    }

    static func makeDirectories(_ directory: String) -> String? {
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                return "cannot create \(path): \(String(cString: strerror(errno)))"
            }
        }
        return nil
    }
}

extension SeccompCompiler {
    /// Compiles `profile`, or loads the identical filter from the cache in `directory`
    /// (default: `SeccompCache.defaultDirectory()`). Cache problems never fail the compile.
    public static func compileCached(_ profile: SeccompProfile,
                                     directory: String? = SeccompCache.defaultDirectory()) throws(SeccompError) -> SeccompCache.Result {
        guard let directory else { return .init(program: try compile(profile), outcome: .bypassed(reason: "no cache directory")) }
        if let problem = SeccompCache.prepare(directory) {
            return .init(program: try compile(profile), outcome: .bypassed(reason: problem))
        }
        let key = SeccompCache.key(for: profile)
        let path = SeccompCache.path(for: key, in: directory)
        if let program = SeccompCache.load(key: key, path: path) { return .init(program: program, outcome: .hit) }
        let program = try compile(profile)
        return .init(program: program, outcome: .compiled(stored: SeccompCache.store(program, key: key, path: path)))
    }
}
