import Glibc
import Specs

extension RunStart {
    /// A spec or policy file as loaded: its JSON and the SHA-256 of its bytes.
    public struct FileSnapshot: Sendable {
        public var json: JSONValue
        public var sha256: String
    }

    /// Reads and parses `path` for the trace (the run's own loader has already validated it).
    public static func snapshot(path: String) throws(TraceError) -> FileSnapshot {
        let bytes = try TraceFileIO.readFile(path)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, file: path) } catch {
            throw TraceError(.format, "cannot snapshot \(path) for the trace: \(error)", file: path)
        }
        return FileSnapshot(json: json, sha256: SHA256Digest(hashing: bytes).hex)
    }

    /// This host's name and kernel release (uname).
    public static func host() -> (hostname: String, kernel: String) {
        var names = utsname()
        uname(&names)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return (text(names.nodename), text(names.release))
    }

    /// A run start for `warden run` / `warden exec`: the spec (or the command, for exec) and the policy as loaded.
    public static func make(runID: String = RunID.make(), agentName: String, spec: FileSnapshot, policy: FileSnapshot,
                            wardenVersion: String, auditedSyscalls: [String] = []) -> RunStart {
        let host = host()
        return RunStart(runID: runID, agentName: agentName, spec: spec.json, specSHA256: spec.sha256, policy: policy.json,
                        policySHA256: policy.sha256, hostname: host.hostname, kernel: host.kernel,
                        wardenVersion: wardenVersion, auditedSyscalls: auditedSyscalls)
    }

    /// The snapshot of an ad-hoc command (`warden exec`): its argv as the "spec".
    public static func commandSnapshot(_ arguments: [String]) -> FileSnapshot {
        let json = JSONValue.object(JSONObject([("command", .array(arguments.map { .string($0) }))]))
        return FileSnapshot(json: json, sha256: SHA256Digest(hashing: JSONWriter.canonical(json)).hex)
    }
}
