import Foundation
import Testing
import TestSupport

@Suite("warden exec/run --trace record real sandboxed runs")
struct TraceRunTests {
    static func warden(_ directory: String, _ arguments: [String]) throws -> WardenTool.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_TRACE_DIR"] = directory
        // Fresh workspaces go here, not into the shared $TMPDIR another suite watches for leaks.
        environment["TMPDIR"] = directory
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

@Suite("audited syscalls: seccomp user notification into the trace")
struct SeccompAuditTests {
    /// The default policy with mkdir and mkdirat moved from "allow" to "audit" (answered with EROFS).
    static func auditPolicy(_ directory: String) throws -> String {
        let source = WardenTool.packageRoot.appendingPathComponent("Policies/default.json")
        var policy = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var seccomp = try #require(policy["seccomp"] as? [String: Any])
        var allow = try #require(seccomp["allow"] as? [String: Any])
        allow["files"] = (allow["files"] as? [String])?.filter { $0 != "mkdir" && $0 != "mkdirat" }
        seccomp["allow"] = allow
        seccomp["audit"] = [["errno": "EROFS", "syscalls": ["mkdir", "mkdirat"]]]
        policy["seccomp"] = seccomp
        let path = directory + "/audit-policy.json"
        try JSONSerialization.data(withJSONObject: policy).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a sandboxed mkdir under an audit rule: exactly one denial record, and the policy's errno")
    func auditedMkdir() throws {
        let directory = try TraceTools.makeTemporaryDirectory("trace-audit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policy = try Self.auditPolicy(directory)
        let result = try TraceRunTests.warden(directory, ["exec", "--trace", "--policy", policy, "--",
                                                          "/bin/sh", "-c", "mkdir /workspace/audited-dir; echo mkdir-status=$?"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("mkdir-status=1"))
        #expect(result.stderr.contains("Read-only file system"), "the agent sees EROFS: \(result.stderr)")
        let runID = try #require(try TraceRunTests.lastRun(directory)["run"] as? String)
        let show = try TraceRunTests.warden(directory, ["trace", "show", runID, "--json"])
        let records = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]])
        let denials = records.filter { $0["type"] as? String == "seccomp.denial" }.compactMap { $0["body"] as? [String: Any] }
        #expect(denials.count == 1)
        #expect(denials.first?["syscall"] as? String == "mkdir" || denials.first?["syscall"] as? String == "mkdirat")
        #expect(denials.first?["errno"] as? Int == 30)
        #expect((denials.first?["args"] as? [Any])?.count == 6)
        let start = records.first?["body"] as? [String: Any]
        #expect(start?["audited_syscalls"] as? [String] == ["mkdir", "mkdirat"], "run.start says which syscalls are audited")
        #expect(try TraceRunTests.warden(directory, ["trace", "verify"]).status == 0)
    }

    @Test("without --trace the audited syscall still gets the policy's errno (not ENOSYS)")
    func auditedWithoutTrace() throws {
        let directory = try TraceTools.makeTemporaryDirectory("audit-notrace")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policy = try Self.auditPolicy(directory)
        let result = try TraceRunTests.warden(directory, ["exec", "--policy", policy, "--", "/bin/sh", "-c", "mkdir /workspace/d"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("Read-only file system"), "\(result.stderr)")
    }
}
