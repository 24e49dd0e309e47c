import Glibc
import Specs
import Supervisor
import TraceStore

/// Where `warden trace` reads traces: the trace directory's files, or a supervisor's control API
/// (`--socket PATH`, or `$WARDEN_SOCKET` when a daemon answers there). Both give the same values,
/// and the command prints them with the same code, so the output is the same either way.
enum TraceSource {
    case files(TraceDirectory)
    case daemon(ControlClient)

    /// `--socket` wins (a daemon must answer); else `$WARDEN_SOCKET` if a daemon answers there; else the files.
    static func resolve(socket: String?) -> TraceSource {
        if let socket { return .daemon(ControlClient(socketPath: socket)) }
        if let path = getenv("WARDEN_SOCKET").map({ String(cString: $0) }), !path.isEmpty {
            let client = ControlClient(socketPath: path)
            if let reply = try? client.request("GET", "/healthz", timeout: .seconds(5)), reply.status == 200 { return .daemon(client) }
        }
        return .files(TraceDirectory.resolve())
    }

    /// The trace directory's path and its runs, one `TraceListing.json` object each.
    func listing() throws -> (directory: String, runs: [JSONValue]) {
        switch self {
        case .files(let directory):
            return (directory.path, try directory.listRuns().map(TraceListing.json))
        case .daemon(let client):
            let answer = try Self.get(client, "/v1/traces")
            guard case .string(let path)? = answer[member: "directory"], case .array(let runs)? = answer[member: "traces"] else {
                throw TraceDaemonError.malformed("/v1/traces")
            }
            return (path, runs)
        }
    }

    /// What `warden trace show` prints for the run (text or JSON), and the damage after the records shown.
    func show(_ runID: String, json: Bool) throws -> (text: String, damage: String?) {
        switch self {
        case .files(let directory):
            let scan = try directory.readRun(runID)
            let records = scan.records.map(\.record)
            let text = json ? JSONWriter.compact(TraceShow.json(runID: runID, records: records)) + "\n" : TraceShow.text(records: records)
            return (text, scan.problem?.description)
        case .daemon(let client):
            try Self.checkRunID(runID)
            let answer = try Self.get(client, "/v1/traces/\(runID)/show" + (json ? "?json=true" : ""))
            guard case .string(let text)? = answer[member: "text"] else { throw TraceDaemonError.malformed("show") }
            if case .string(let damage)? = answer[member: "damage"] { return (text, damage) }
            return (text, nil)
        }
    }

    /// The verification of one run or of every run, as the verify endpoint reports it.
    func verify(_ runID: String?) throws -> JSONValue {
        switch self {
        case .files(let directory):
            return TraceForms.verifyReport(try TraceVerifier.verify(directory: directory, runID: runID))
        case .daemon(let client):
            return try Self.get(client, runID.map { "/v1/traces/\(ControlOptions.escape($0))/verify" } ?? "/v1/traces?verify=true")
        }
    }

    /// The run as an OTLP/JSON document (refused for a damaged trace).
    func otlp(_ runID: String) throws -> JSONValue {
        switch self {
        case .files(let directory):
            let scan = try directory.readRun(runID)
            if let problem = scan.problem { throw TraceError(.format, "refusing to export a damaged trace: \(problem)") }
            return try OTLPExport.export(records: scan.records.map(\.record), wardenVersion: version)
        case .daemon(let client):
            try Self.checkRunID(runID)
            return try Self.get(client, "/v1/traces/\(runID)/otlp")
        }
    }

    /// The same refusal `TraceDirectory.readRun` gives, before the id goes into a request path.
    private static func checkRunID(_ runID: String) throws {
        guard RunID.isValid(runID) else { throw TraceError(.invalidArgument, "invalid run id '\(runID)'") }
    }

    /// A GET whose answer is JSON; the API's error message otherwise (as the files path would print it).
    private static func get(_ client: ControlClient, _ target: String) throws -> JSONValue {
        let reply = try client.request("GET", target, timeout: .seconds(600))
        guard (200..<300).contains(reply.status) else { throw TraceDaemonError.answer(reply.errorMessage, status: reply.status) }
        guard let value = reply.json else { throw TraceDaemonError.malformed(target) }
        return value
    }
}

/// A daemon's refusal (printed as the files path prints its `TraceError`), or an answer that is not what the API defines.
enum TraceDaemonError: Error, CustomStringConvertible {
    case answer(String, status: Int)
    case malformed(String)

    var description: String {
        switch self {
        case .answer(let message, _): return message
        case .malformed(let what): return "the supervisor's answer to \(what) is not what the control API defines"
        }
    }

    /// 400 is the caller's mistake (exit 2, as an invalid argument is on the files path); the rest exit 1.
    var exitCode: Int32 {
        if case .answer(_, let status) = self, status == 400 { return ExitCode.usage }
        return ExitCode.failure
    }
}
