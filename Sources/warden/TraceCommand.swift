import Glibc
import Specs
import TraceStore

/// `warden trace`: Lists, shows, verifies, exports and recovers execution traces.
enum TraceCommand: WardenCommand {
    static let name = "trace"
    static let summary = "Lists, shows, verifies and exports execution traces."
    static let usage = """
        usage: warden trace ls [--json] [--socket PATH]
               warden trace show RUN [--json] [--socket PATH]
               warden trace verify [RUN | --all] [--socket PATH]
               warden trace export RUN --otlp [-o FILE] [--socket PATH]
               warden trace recover

        Traces live in $WARDEN_TRACE_DIR, else /var/lib/warden/traces as root,
        else $XDG_STATE_HOME/warden/traces. With --socket PATH, or when $WARDEN_SOCKET
        is set and a supervisor answers there, ls/show/verify/export ask that supervisor
        (`warden serve`) about its trace directory instead; the output is the same.
        verify exits 1 on any tampering and prints the first bad record of each damaged file.
        recover cuts only torn tails left by a crash (kept in .torn-* files) and records the cut.
        """

    static func run(_ arguments: [String]) -> Int32 {
        do {
            let (rest, socket) = try socketOption(arguments)
            var cursor = ArgumentCursor(rest)
            let command = cursor.next()
            if command == "recover" {
                // Recovery works on the files; a supervisor recovers its own traces when it starts.
                if socket != nil { throw UsageError("recover works on the trace files, not through a daemon (`warden serve` recovers its traces at start)") }
                return try recover(&cursor, TraceDirectory.resolve())
            }
            let source = TraceSource.resolve(socket: socket)
            switch command {
            case "ls": return try list(&cursor, source)
            case "show": return try show(&cursor, source)
            case "verify": return try verify(&cursor, source)
            case "export": return try export(&cursor, source)
            case let other?: throw UsageError("unknown trace command '\(other)'")
            case nil: throw UsageError("missing trace command")
            }
        } catch let error as UsageError {
            printError("warden trace: \(error)\n\n\(usage)")
            return ExitCode.usage
        } catch let error as TraceError {
            printError("warden trace: \(error)")
            return error.code == .invalidArgument ? ExitCode.usage : ExitCode.failure
        } catch let error as TraceDaemonError {
            printError("warden trace: \(error)")
            return error.exitCode
        } catch {
            printError("warden trace: \(error)")
            return ExitCode.failure
        }
    }

    /// Takes `--socket PATH` (or `--socket=PATH`) from anywhere in the arguments.
    static func socketOption(_ arguments: [String]) throws -> (rest: [String], socket: String?) {
        var rest: [String] = [], socket: String?, index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--socket" {
                guard index + 1 < arguments.count else { throw UsageError("--socket needs a value") }
                socket = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--socket=") { socket = String(argument.dropFirst(9)) } else { rest.append(argument) }
            index += 1
        }
        return (rest, socket)
    }

    static func list(_ cursor: inout ArgumentCursor, _ source: TraceSource) throws -> Int32 {
        let json = cursor.flag("--json")
        try expectEnd(cursor)
        let (directory, runs) = try source.listing()
        if json {
            writeOut(JSONWriter.compact(.array(runs)) + "\n")
            return ExitCode.success
        }
        if runs.isEmpty { writeOut("no runs in \(directory)\n") }
        for run in runs { writeOut(TraceListing.line(run) + "\n") }
        return ExitCode.success
    }

    static func show(_ cursor: inout ArgumentCursor, _ source: TraceSource) throws -> Int32 {
        var json = false, runID: String?
        while let argument = cursor.next() {
            if argument == "--json" { json = true } else if runID == nil && !argument.hasPrefix("-") { runID = argument } else {
                throw UsageError("unexpected argument '\(argument)'")
            }
        }
        guard let runID else { throw UsageError("show needs a RUN id") }
        let (text, damage) = try source.show(runID, json: json)
        writeOut(text)
        if let damage { printError("warden trace: WARNING: the trace is damaged after the records shown: \(damage)") }
        return ExitCode.success
    }

    static func verify(_ cursor: inout ArgumentCursor, _ source: TraceSource) throws -> Int32 {
        var runID: String?
        while let argument = cursor.next() {
            if argument == "--all" { continue }
            if runID == nil && !argument.hasPrefix("-") { runID = argument } else { throw UsageError("unexpected argument '\(argument)'") }
        }
        let report = try source.verify(runID)
        func strings(_ key: String) -> [String] {
            guard case .array(let items)? = report[member: key] else { return [] }
            return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        for problem in strings("problems") { writeOut("BAD \(problem)\n") }
        for run in strings("open_runs") { writeOut("open \(run): not closed (still running, or left by a crash: warden trace recover)\n") }
        let ok = report[member: "ok"] == .bool(true)
        let runs = report[member: "runs_checked"]?.cell ?? "?", records = report[member: "records_checked"]?.cell ?? "?"
        let head = report[member: "host_head"]?.cell ?? "?"
        writeOut("\(ok ? "ok" : "FAILED"): \(runs) runs, \(records) records checked; host index head \(head)\n")
        return ok ? ExitCode.success : ExitCode.failure
    }

    static func export(_ cursor: inout ArgumentCursor, _ source: TraceSource) throws -> Int32 {
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
        let text = JSONWriter.compact(try source.otlp(runID)) + "\n"
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
