import Foundation
import TestSupport

/// One RESULT line of a probe: `RESULT <name> <status> <detail>`.
struct ProbeResult: Sendable, Equatable {
    var status: String
    var detail: String

    var escaped: Bool { status == "ESCAPED" }
    /// The errno name of a blocked attempt ("EPERM"), if the line has one.
    var errno: String? {
        guard let range = detail.range(of: #"errno=E[A-Z0-9]+"#, options: .regularExpression) else { return nil }
        return String(detail[range].dropFirst("errno=".count))
    }
}

/// A finished probe run: what the host process did, the probe's results and warden's JSON report.
struct ProbeRun {
    var outcome: HostSpawn.Outcome
    var results: [String: [ProbeResult]]
    /// The `warden exec --json` run report; nil for unsandboxed runs or if none was printed.
    var report: [String: Any]?

    init(_ outcome: HostSpawn.Outcome) {
        self.outcome = outcome
        var report: [String: Any]?
        for line in outcome.stdout.lines where line.hasPrefix("{") {
            report = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? report
        }
        // With --json, warden captures the probe's output (bounded) into the report.
        var lines = outcome.stdout.lines + outcome.stderr.lines
        for key in ["stdout", "stderr"] {
            lines += (report?[key] as? String)?.split(separator: "\n").map(String.init) ?? []
        }
        var results: [String: [ProbeResult]] = [:]
        for line in lines where line.hasPrefix("RESULT ") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { continue }
            results[fields[1], default: []].append(ProbeResult(status: fields[2], detail: fields.count > 3 ? fields[3] : ""))
        }
        self.results = results
        self.report = report
    }

    /// The last result named `name`.
    func result(_ name: String) -> ProbeResult? { results[name]?.last }

    /// Every attempt that reported ESCAPED, as "name: detail".
    var escapes: [String] {
        results.flatMap { name, list in list.filter(\.escaped).map { "\(name): \($0.detail)" } }.sorted()
    }

    /// A boolean field of the report (false when absent).
    func flag(_ key: String) -> Bool { (report?[key] as? Bool) ?? false }

    /// An integer field of the report.
    func number(_ key: String) -> Int? { (report?[key] as? NSNumber)?.intValue }

    /// Everything printed, for failure messages.
    var transcript: String {
        "exit=\(outcome.exitCode.map(String.init) ?? "-") signal=\(outcome.signal.map(String.init) ?? "-")\n"
            + "stdout:\n\(outcome.stdout.text.prefix(6000))\nstderr:\n\(outcome.stderr.text.prefix(4000))"
    }
}

/// Runs probes through `warden exec`, and unsandboxed as negative controls.
enum ProbeRunner {
    static var defaultPolicy: String { WardenTool.packageRoot.appendingPathComponent("Policies/default.json").path }

    /// The warden binary the suite runs.
    static var wardenBinary: String { WardenTool.binary }

    /// Whether `path` exists on the host (kernel features differ between hosts).
    static func hostHas(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `warden exec --policy P --workspace DIR --json -- /workspace/<probe> ARGS`.
    static func sandboxed(_ workspace: ProbeWorkspace, _ arguments: [String], options: [String] = [],
                          stdin: Int32? = nil, deadline: Double = 60) throws -> ProbeRun {
        let command = ["exec", "--policy", defaultPolicy, "--workspace", workspace.directory, "--json"] + options
            + ["--", workspace.probeInside] + arguments
        return ProbeRun(try HostSpawn.run(WardenTool.binary, command, stdin: stdin, deadline: deadline))
    }

    /// The same probe straight on the host, in the workspace directory: every attack should land.
    static func unsandboxed(_ workspace: ProbeWorkspace, _ arguments: [String], stdin: Int32? = nil) throws -> ProbeRun {
        ProbeRun(try HostSpawn.run(workspace.probePath, arguments, stdin: stdin, directory: workspace.directory, deadline: 30))
    }
}
