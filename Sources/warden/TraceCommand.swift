import Glibc
import Specs
import TraceStore

/// `warden trace`: Lists, shows, verifies, exports and recovers execution traces.
enum TraceCommand: WardenCommand {
    static let name = "trace"
    static let summary = "Lists, shows, verifies and exports execution traces."
    static let usage = """
        usage: warden trace ls [--json]
               warden trace show RUN [--json]
               warden trace verify [RUN | --all]
               warden trace export RUN --otlp [-o FILE]
               warden trace recover

        Traces live in $WARDEN_TRACE_DIR, else /var/lib/warden/traces as root,
        else $XDG_STATE_HOME/warden/traces.
        verify exits 1 on any tampering and prints the first bad record of each damaged file.
        recover cuts only torn tails left by a crash (kept in .torn-* files) and records the cut.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var cursor = ArgumentCursor(arguments)
        let directory = TraceDirectory.resolve()
        do {
            switch cursor.next() {
            case "ls": return try list(&cursor, directory)
            case "show": return try show(&cursor, directory)
            case "verify": return try verify(&cursor, directory)
            case "export": return try export(&cursor, directory)
            case "recover": return try recover(&cursor, directory)
            case let other?: throw UsageError("unknown trace command '\(other)'")
            case nil: throw UsageError("missing trace command")
            }
        } catch let error as UsageError {
            printError("warden trace: \(error)\n\n\(usage)")
            return ExitCode.usage
        } catch let error as TraceError {
            printError("warden trace: \(error)")
            return error.code == .invalidArgument ? ExitCode.usage : ExitCode.failure
        } catch {
            printError("warden trace: \(error)")
            return ExitCode.failure
        }
    }

    static func list(_ cursor: inout ArgumentCursor, _ directory: TraceDirectory) throws -> Int32 {
        let json = cursor.flag("--json")
        try expectEnd(cursor)
        let runs = try directory.listRuns()
        if json {
            writeOut(JSONWriter.compact(.array(runs.map(TraceListing.json))) + "\n")
            return ExitCode.success
        }
        if runs.isEmpty { writeOut("no runs in \(directory.path)\n") }
        for run in runs { writeOut(TraceListing.line(run) + "\n") }
        return ExitCode.success
    }

    static func show(_ cursor: inout ArgumentCursor, _ directory: TraceDirectory) throws -> Int32 {
        var json = false, runID: String?
        while let argument = cursor.next() {
            if argument == "--json" { json = true } else if runID == nil && !argument.hasPrefix("-") { runID = argument } else {
                throw UsageError("unexpected argument '\(argument)'")
            }
        }
        guard let runID else { throw UsageError("show needs a RUN id") }
        let scan = try directory.readRun(runID)
        let records = scan.records.map(\.record)
        writeOut(json ? JSONWriter.compact(TraceShow.json(runID: runID, records: records)) + "\n" : TraceShow.text(records: records))
        if let problem = scan.problem { printError("warden trace: WARNING: the trace is damaged after the records shown: \(problem)") }
        return ExitCode.success
    }

    static func verify(_ cursor: inout ArgumentCursor, _ directory: TraceDirectory) throws -> Int32 {
        var runID: String?
        while let argument = cursor.next() {
            if argument == "--all" { continue }
            if runID == nil && !argument.hasPrefix("-") { runID = argument } else { throw UsageError("unexpected argument '\(argument)'") }
        }
        let report = try TraceVerifier.verify(directory: directory, runID: runID)
        for problem in report.problems { writeOut("BAD \(problem)\n") }
        for run in report.openRuns { writeOut("open \(run): not closed (still running, or left by a crash: warden trace recover)\n") }
        let verdict = report.ok ? "ok" : "FAILED"
        writeOut("\(verdict): \(report.runsChecked) runs, \(report.recordsChecked) records checked; host index head \(report.hostHead)\n")
        return report.ok ? ExitCode.success : ExitCode.failure
    }

    static func export(_ cursor: inout ArgumentCursor, _ directory: TraceDirectory) throws -> Int32 {
        var runID: String?, otlp = false, outputPath: String?
        while !cursor.isEmpty {
            if cursor.flag("--otlp") { otlp = true; continue }
            if let path = try cursor.value(for: "-o") ?? cursor.value(for: "--output") { outputPath = path; continue }
            guard let argument = cursor.next(), runID == nil, !argument.hasPrefix("-") else {
                throw UsageError("unexpected argument")
            }
            runID = argument
        }
        guard let runID else { throw UsageError("export needs a RUN id") }
        guard otlp else { throw UsageError("export needs a format: --otlp") }
        let scan = try directory.readRun(runID)
        if let problem = scan.problem { throw TraceError(.format, "refusing to export a damaged trace: \(problem)") }
        let document = try OTLPExport.export(records: scan.records.map(\.record), wardenVersion: version)
        let text = JSONWriter.compact(document) + "\n"
        if let outputPath { try writeFile(outputPath, text) } else { writeOut(text) }
        return ExitCode.success
    }

    static func recover(_ cursor: inout ArgumentCursor, _ directory: TraceDirectory) throws -> Int32 {
        try expectEnd(cursor)
        let report = try TraceRecovery.recover(directory: directory)
        for cut in report.cuts {
            writeOut("cut \(cut.length) torn bytes at offset \(cut.offset) of \(cut.path) (kept in \(cut.tornPath), sha256 \(cut.sha256))\n")
        }
        for run in report.closedRuns { writeOut("closed crashed run \(run) (status recovered)\n") }
        for run in report.liveRuns { writeOut("skipped live run \(run)\n") }
        for problem in report.refused { writeOut("REFUSED \(problem): damage that is not a torn tail is never repaired\n") }
        if report.cuts.isEmpty && report.closedRuns.isEmpty && report.refused.isEmpty { writeOut("nothing to recover\n") }
        return report.refused.isEmpty ? ExitCode.success : ExitCode.failure
    }

    static func expectEnd(_ cursor: ArgumentCursor) throws {
        if let extra = cursor.peek { throw UsageError("unexpected argument '\(extra)'") }
    }
}
