import Glibc
import Testing
@testable import Sandbox
import Specs

@Suite("run report")
struct RunReportTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var report: RunReport
        var status: Int32
        var summary: String
        var testDescription: String { name }
    }

    static func report(_ edit: (inout RunReport) -> Void) -> RunReport {
        var report = RunReport()
        edit(&report)
        return report
    }

    static let cases: [Case] = [
        Case(name: "clean exit", report: report { $0.exitCode = 0 }, status: 0, summary: "exited with status 0"),
        Case(name: "exit code", report: report { $0.exitCode = 3 }, status: 3, summary: "exited with status 3"),
        Case(name: "signal", report: report { $0.signal = SIGTERM }, status: 143, summary: "killed by signal 15 (SIGTERM)"),
        Case(name: "oom", report: report { $0.signal = SIGKILL; $0.oomKilled = true }, status: 137,
             summary: "killed by the kernel OOM killer (cgroup memory limit reached)"),
        Case(name: "timeout", report: report { $0.signal = SIGKILL; $0.timedOut = true }, status: 124,
             summary: "killed at the wall-clock timeout"),
        Case(name: "seccomp", report: report { $0.signal = SIGSYS; $0.seccompKilled = true }, status: 128 + SIGSYS,
             summary: "killed by seccomp (SIGSYS): a forbidden system call"),
        Case(name: "dropped output", report: report { $0.exitCode = 0; $0.stdoutDropped = 10; $0.pidsLimitHit = true },
             status: 0, summary: "exited with status 0; pids limit reached; 10 bytes of stdout dropped past the limit"),
    ]

    @Test("exit status and summary follow the documented conventions", arguments: cases)
    func conventions(_ entry: Case) {
        #expect(entry.report.exitStatus == entry.status)
        #expect(entry.report.summary == entry.summary)
    }

    @Test("the JSON form round-trips through the Specs parser with every field")
    func json() throws {
        var report = RunReport()
        report.exitCode = 2
        report.cgroupMode = .hybrid
        report.unenforced = ["cpu: no v1 cpu controller mounted"]
        report.memoryPeakBytes = 1 << 20
        let text = JSONWriter.compact(report.json)
        let parsed = try JSONParser.parse(text, file: nil)
        guard case .object(let object) = parsed else { Issue.record("not an object"); return }
        #expect(object["exitCode"] == .number(JSONNumber(2)))
        #expect(object["signal"] == .null)
        #expect(object["cgroupMode"] == .string("hybrid"))
        #expect(object["unenforced"] == .array([.string("cpu: no v1 cpu controller mounted")]))
        #expect(object["memoryPeakBytes"] == .number(JSONNumber(1 << 20)))
    }
}
