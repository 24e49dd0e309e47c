import Foundation
import Testing
import TestSupport

@Suite("warden exec/run --trace record real sandboxed runs")
struct TraceRunTests {
    static func warden(_ directory: String, _ arguments: [String]) throws -> WardenTool.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_TRACE_DIR"] = directory
        return try WardenTool.run(arguments, environment: environment)
    }

    static func lastRun(_ directory: String) throws -> [String: Any] {
        let ls = try warden(directory, ["trace", "ls", "--json"])
        let runs = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as? [[String: Any]]
        return try #require(runs?.last)
    }

    @Test("exec --trace: spawn, output, exit status and run end are recorded, and the trace verifies")
    func execTraced() throws {
        let directory = try TraceTools.makeTemporaryDirectory("trace-exec")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.warden(directory, ["exec", "--trace", "--", "/bin/sh", "-c", "echo traced-output; exit 3"])
        #expect(result.status == 3 && result.stdout.contains("traced-output"))
        let run = try Self.lastRun(directory)
        #expect(run["status"] as? String == "failed")
        let runID = try #require(run["run"] as? String)
        let show = try Self.warden(directory, ["trace", "show", runID, "--json"])
        let records = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]])
        let types = records.compactMap { $0["type"] as? String }
        #expect(types.first == "run.start" && types.last == "run.end")
        #expect(types.contains("process.spawn") && types.contains("process.exit") && types.contains("output.chunk"))
        let exit = try #require(records.first { $0["type"] as? String == "process.exit" }?["body"] as? [String: Any])
        #expect(exit["exit_code"] as? Int == 3)
        let chunk = records.first { $0["type"] as? String == "output.chunk" }?["body"] as? [String: Any]
        #expect(chunk?["text"] as? String == "traced-output\n")
        let start = try #require(records.first?["body"] as? [String: Any])
        #expect((start["policy_sha256"] as? String)?.count == 64 && start["policy"] is [String: Any])
        #expect(try Self.warden(directory, ["trace", "verify"]).status == 0)
    }

    @Test("a wall-clock timeout is a limit event and a timed_out run")
    func timeoutTraced() throws {
        let directory = try TraceTools.makeTemporaryDirectory("trace-timeout")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.warden(directory, ["exec", "--trace", "--timeout", "0.3", "--", "/bin/sh", "-c", "sleep 30"])
        #expect(result.status == 124)
        let run = try Self.lastRun(directory)
        #expect(run["status"] as? String == "timed_out")
        let show = try Self.warden(directory, ["trace", "show", try #require(run["run"] as? String)])
        #expect(show.stdout.contains("LIMIT wall_time killed") && show.stdout.contains("timed_out"))
    }

    @Test("run --trace records the agent spec as loaded")
    func runTraced() throws {
        let directory = try TraceTools.makeTemporaryDirectory("trace-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.warden(directory, ["run", "--trace", "AgentSpecs/hello.json"])
        #expect(result.status == 0)
        let run = try Self.lastRun(directory)
        #expect(run["agent"] as? String == "hello" && run["status"] as? String == "ok")
        #expect(try Self.warden(directory, ["trace", "verify", try #require(run["run"] as? String)]).status == 0)
    }
}
