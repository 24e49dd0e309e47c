import Glibc

/// A directory of traces: `host.index` plus one `<run-id>.trace` file per run.
public struct TraceDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$WARDEN_TRACE_DIR`, else /var/lib/warden/traces as root, else `$XDG_STATE_HOME/warden/traces`
    /// (`$HOME/.local/state/warden/traces` when XDG_STATE_HOME is unset).
    public static func resolve(environment: [String: String] = currentEnvironment(), isRoot: Bool = geteuid() == 0) -> TraceDirectory {
        if let explicit = environment["WARDEN_TRACE_DIR"], !explicit.isEmpty { return TraceDirectory(path: explicit) }
        if isRoot { return TraceDirectory(path: "/var/lib/warden/traces") }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return TraceDirectory(path: state + "/warden/traces") }
        return TraceDirectory(path: (environment["HOME"] ?? "/tmp") + "/.local/state/warden/traces")
    }

    /// The process environment as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { result[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            cursor += 1
        }
        return result
    }

    public var indexPath: String { path + "/host.index" }

    /// The file of run `runID`.
    public func runPath(_ runID: String) -> String { path + "/" + runID + ".trace" }

    /// Creates the directory (mode 0750) if needed.
    public func create() throws(TraceError) { try TraceFileIO.makeDirectories(path) }

    /// Run ids of the `*.trace` files present, sorted.
    public func runFiles() throws(TraceError) -> [String] {
        try TraceFileIO.list(path).filter { $0.hasSuffix(".trace") }.map { String($0.dropLast(6)) }
    }
}

/// An exclusive advisory lock (flock) on an open file: one writer per run file, one appender
/// at a time on the host index; recovery skips files whose lock is held by a live writer.
enum FileLock {
    static func lock(_ fd: Int32, path: String) throws(TraceError) {
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw TraceError.system("flock", path)
        }
    }

    /// Takes the lock if free; false when another process holds it.
    static func tryLock(_ fd: Int32, path: String) throws(TraceError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw TraceError.system("flock", path)
    }

    static func unlock(_ fd: Int32) { flock(fd, LOCK_UN) }
}

extension TraceDirectory {
    /// Runs known to the host index, in the order they started.
    public func listRuns() throws(TraceError) -> [IndexedRun] {
        IndexedRun.collect(from: try HostIndex(directory: self).scan()).runs
    }

    /// Reads one run's file (all valid records; `problem` set when the file is damaged).
    public func readRun(_ runID: String) throws(TraceError) -> TraceFileScan {
        guard RunID.isValid(runID) else { throw TraceError(.invalidArgument, "invalid run id '\(runID)'") }
        let path = runPath(runID)
        guard TraceFileIO.exists(path) else { throw TraceError(.notFound, "no trace for run \(runID)", file: path) }
        return try TraceReader.scan(path: path)
    }
}
