import Glibc
import Specs
import TraceStore

/// `GET /v1/traces...`: the supervisor's trace directory through the control API, with the same
/// TraceStore code `warden trace` uses (which keeps working on the files without a daemon).
///
/// ```
/// GET /v1/traces                 {"directory", "traces": [{"run", "agent", "trace_id", "start_ns", "status", "records", "final_sha256"}]}
/// GET /v1/traces?verify=true     every run verified: {"ok", "runs_checked", "records_checked", "problems", "open_runs", "host_head"}
/// GET /v1/traces/{run}           the run's records (as `warden trace show --json`)
/// GET /v1/traces/{run}/show      {"text", "damage"}: what `warden trace show` prints (?json=true: `show --json`),
///                                and the damage found after the records shown (null when none)
/// GET /v1/traces/{run}/verify    the run verified (as above)
/// GET /v1/traces/{run}/otlp      OTLP/JSON (as `warden trace export --otlp`)
/// ```
struct TraceAPI {
    let directory: TraceDirectory

    /// The answer for `parts` (after "traces") and the query.
    func answer(_ parts: ArraySlice<String>, query: [String: String] = [:]) throws(SupervisorError) -> JSONValue {
        if let runID = parts.first, !RunID.isValid(runID) { throw SupervisorError(.badRequest, "invalid run id \"\(runID)\"") }
        if parts.count == 2, !["verify", "otlp", "show"].contains(parts[parts.startIndex + 1]) {
            throw SupervisorError(.notFound, "no such trace endpoint")
        }
        do throws(TraceError) {
            guard let runID = parts.first else {
                if query["verify"] == "true" { return TraceForms.verifyReport(try TraceVerifier.verify(directory: directory)) }
                let runs = access(directory.indexPath) ? try directory.listRuns() : []
                return .object(JSONObject([("directory", .string(directory.path)), ("traces", .array(runs.map(TraceForms.listing)))]))
            }
            switch parts.dropFirst().first {
            case nil:
                let scan = try directory.readRun(runID)
                return TraceShow.json(runID: runID, records: scan.records.map(\.record))
            case "show":
                let scan = try directory.readRun(runID)
                let records = scan.records.map(\.record)
                let text = query["json"] == "true" ? JSONWriter.compact(TraceShow.json(runID: runID, records: records)) + "\n"
                                                   : TraceShow.text(records: records)
                return .object(JSONObject([("text", .string(text)), ("damage", scan.problem.map { .string($0.description) } ?? .null)]))
            case "verify":
                return TraceForms.verifyReport(try TraceVerifier.verify(directory: directory, runID: runID))
            default:
                let scan = try directory.readRun(runID)
                if let problem = scan.problem { throw TraceError(.format, "refusing to export a damaged trace: \(problem)") }
                return try OTLPExport.export(records: scan.records.map(\.record), wardenVersion: wardenVersion)
            }
        } catch {
            throw SupervisorError(error.code == .notFound ? .notFound : error.code == .invalidArgument ? .badRequest : .io, error.description)
        }
    }

    private func access(_ path: String) -> Bool { Glibc.access(path, F_OK) == 0 }
}

/// The JSON forms of trace listings and verify reports, shared by the control API and `warden trace`
/// (on the files or through a daemon), so that both paths print the same.
public enum TraceForms {
    /// `{"ok", "runs_checked", "records_checked", "problems", "open_runs", "host_head"}`.
    public static func verifyReport(_ report: VerifyReport) -> JSONValue {
        .object(JSONObject([
            ("ok", .bool(report.ok)), ("runs_checked", .number(JSONNumber(report.runsChecked))),
            ("records_checked", .number(JSONNumber(report.recordsChecked))),
            ("problems", .array(report.problems.map { .string($0.description) })),
            ("open_runs", .array(report.openRuns.map { .string($0) })), ("host_head", .string(report.hostHead.hex)),
        ]))
    }

    /// `{"run", "agent", "trace_id", "start_ns", "status", "records", "final_sha256"}` (`status` "open" until closed).
    public static func listing(_ run: IndexedRun) -> JSONValue {
        .object(JSONObject([
            ("run", .string(run.runID)), ("agent", .string(run.agent)), ("trace_id", .string(run.traceID)),
            ("start_ns", .number(JSONNumber(run.startNanoseconds))), ("status", .string(run.closed?.status ?? "open")),
            ("records", run.closed.map { .number(JSONNumber($0.records)) } ?? .null),
            ("final_sha256", run.closed?.finalHash.map { .string($0.hex) } ?? .null),
        ]))
    }
}
