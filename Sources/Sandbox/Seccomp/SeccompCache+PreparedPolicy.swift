import Glibc
import Specs

/// A policy as `warden exec` needs it — the filesystem view, the limits and the compiled filter —
/// cached on disk next to the compiled filters, so a launch skips the JSON parse, the validation and
/// the filter-cache key (about half a millisecond of CPU per `warden exec`).
///
/// An entry is keyed by the policy file's exact bytes plus everything else its validation depends
/// on: this `warden` executable (device, inode, size, mtime: a rebuild invalidates every entry), the
/// libseccomp version, and the host facts the validator looks at, which for a policy are only
/// whether each bind source exists. Those existence bits are re-checked on every hit; any change
/// makes the entry a miss, and the policy is loaded and validated in full (with the precise error a
/// now-missing bind source deserves). Like the filter cache, the full key is stored and compared
/// byte for byte, files must be owned by us and not writable by others, and a checksum turns
/// corruption into a miss.
public struct PreparedPolicy: Equatable, Sendable {
    /// A bind of the validated policy (missing optional sources already left out).
    public struct Bind: Equatable, Sendable {
        public var source: String, target: String, readOnly: Bool
    }
    public struct Symlink: Equatable, Sendable {
        public var path: String, target: String
    }
    public struct Tmpfs: Equatable, Sendable {
        public var path: String, sizeBytes: UInt64, mode: UInt32
    }

    public var binds: [Bind]
    public var symlinks: [Symlink]
    public var tmpfs: [Tmpfs]
    /// Where the workspace is mounted (nil: the policy has none).
    public var workspacePath: String?
    public var limits: ResourceLimits
    public var program: SeccompProgram

    /// The parts of a validated `policy` a command run needs; `program` is its compiled filter.
    public init(_ policy: Policy, program: SeccompProgram) {
        binds = policy.filesystem.binds.map { Bind(source: $0.source, target: $0.target, readOnly: $0.readOnly) }
        symlinks = policy.filesystem.symlinks.map { Symlink(path: $0.path, target: $0.target) }
        tmpfs = policy.filesystem.tmpfs.map { Tmpfs(path: $0.path, sizeBytes: $0.sizeBytes, mode: $0.mode) }
        workspacePath = policy.filesystem.workspace?.path
        limits = policy.limits
        self.program = program
    }

    init(binds: [Bind], symlinks: [Symlink], tmpfs: [Tmpfs], workspacePath: String?, limits: ResourceLimits,
         program: SeccompProgram) {
        self.binds = binds
        self.symlinks = symlinks
        self.tmpfs = tmpfs
        self.workspacePath = workspacePath
        self.limits = limits
        self.program = program
    }
}

extension PreparedPolicy {
    /// How `load` obtained its policy.
    public enum Outcome: Equatable, Sendable {
        /// From a valid cache entry: no parse, no validation.
        case hit
        /// Loaded and validated in full; `stored` tells whether an entry was written.
        case loaded(stored: Bool)
    }

    /// The prepared policy for the file at `path`, from the cache in `directory` when an entry
    /// matches, else by `Policy.load`'s full parse and validation (whose `SpecError` it throws
    /// unchanged) and then stored. Cache problems never fail a load.
    public static func load(path: String, directory: String? = SeccompCache.defaultDirectory())
        throws(SeccompCache.PreparedError) -> (policy: PreparedPolicy, outcome: Outcome) {
        guard let directory, SeccompCache.prepare(directory) == nil, let bytes = PolicyBytes.read(path) else {
            return (try full(Policy.load(path:), path, directory: directory), .loaded(stored: false))
        }
        let key = PolicyKey(policyBytes: bytes)
        let file = key.path(in: directory)
        if let cached = SeccompCache.load(path: file, decode: { PreparedFormat.decode($0, key: key) }) {
            return (cached, .hit)
        }
        // Exactly the bytes just read are validated and stored (the file is not read twice), and
        // only when the bind sources looked the same before and after the validation. Policy.parse
        // takes text: for valid UTF-8 that is the same parse as Policy.load's of the bytes.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return (try full(Policy.load(path:), path, directory: directory), .loaded(stored: false))
        }
        let sources = PreparedFormat.HostFacts.sources(of: bytes)
        let before = sources.map { PreparedFormat.HostFacts(sources: $0) }
        let prepared = try full({ (path) throws(SpecError) in try Policy.parse(text, file: path) }, path, directory: directory)
        guard let before, before == PreparedFormat.HostFacts(sources: before.sources) else {
            return (prepared, .loaded(stored: false))
        }
        let stored = SeccompCache.store(PreparedFormat.encode(prepared, key: key, facts: before), path: file)
        return (prepared, .loaded(stored: stored))
    }

    /// A full load: parse and validate with `load`, compile the filter (through the filter cache in
    /// `directory`).
    static func full(_ load: (String) throws(SpecError) -> Policy, _ path: String, directory: String?)
        throws(SeccompCache.PreparedError) -> PreparedPolicy {
        let policy: Policy
        do throws(SpecError) { policy = try load(path) } catch { throw .policy(error) }
        do throws(SeccompError) {
            return PreparedPolicy(policy, program: try SeccompCompiler.compileCached(policy.seccomp, directory: directory).program)
        } catch {
            throw .seccomp(error)
        }
    }
}

extension SeccompCache {
    /// Why a prepared policy could not be had: the policy is invalid, or its filter did not compile.
    public enum PreparedError: Error, Sendable, CustomStringConvertible {
        case policy(SpecError)
        case seccomp(SeccompError)

        public var description: String {
            switch self {
            case .policy(let error): "\(error)"
            case .seccomp(let error): "seccomp: \(error)"
            }
        }
    }
}

/// The policy file's bytes, read the way `SpecFile` reads it: only a regular file of at most 1 MiB
/// (anything else returns nil, and the full load reports it precisely).
enum PolicyBytes {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 1 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + count, $0.count - count, off_t(count)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            count += n
        }
        // One byte more than stat promised means the file grew: let the full load handle it.
        guard count == Int(info.st_size) else { return nil }
        bytes.removeLast()
        return bytes
    }
}

/// The key of a prepared entry: header, executable identity, libseccomp, the policy's bytes.
struct PolicyKey {
    let text: [UInt8]
    /// The entry's file name hashes the policy bytes only, so a rebuilt `warden` replaces the
    /// entries of the previous build instead of adding its own next to them.
    let nameHash: UInt64

    /// `<directory>/<16 hex digits>.policy`.
    func path(in directory: String) -> String {
        let hex = String(nameHash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".policy"
    }

    init(policyBytes: [UInt8]) {
        nameHash = Checksum.fnv1a64(policyBytes)
        var exe = stat()
        let identity = stat("/proc/self/exe", &exe) == 0
            ? "\(exe.st_dev):\(exe.st_ino):\(exe.st_size):\(exe.st_mtim.tv_sec).\(exe.st_mtim.tv_nsec)"
            : "unknown-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"  // never matches: always a miss
        let header = "warden prepared policy 1\nexe \(identity)\nlibseccomp \(SeccompCompiler.libseccompVersion)\narch x86_64\n"
        text = Array(header.utf8) + policyBytes
    }
}

extension SandboxRun.Request {
    /// `command(_:policy:workspace:)` for a prepared policy: the same request, built without a
    /// `Policy` value (tested to be equal for every shipped policy).
    public static func command(_ arguments: [String], prepared: PreparedPolicy, workspace: String?) throws(SandboxRun.Error) -> Self {
        let mounts = MountPlan.policyView(binds: prepared.binds.map { ($0.source, $0.target, $0.readOnly) },
                                          symlinks: prepared.symlinks.map { ($0.path, $0.target) },
                                          tmpfs: prepared.tmpfs.map { ($0.path, $0.sizeBytes, $0.mode) })
        var request = Self(arguments: arguments, mounts: mounts)
        request.workspace = workspace
        request.workspaceTarget = prepared.workspacePath
        request.workingDirectory = request.workspaceTarget ?? "/"
        request.apply(limits: prepared.limits)
        try request.apply(program: prepared.program)
        return request
    }
}
