import Foundation
import Testing
import TestSupport

/// Start, shutdown and crash of the daemon: the socket, SIGTERM's drain, kill -9 and recovery.
@Suite("supervisor lifecycle", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorLifecycleTests {
    /// Processes whose command line contains `marker` (the agents a test started).
    static func processes(containing marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let text = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return text.contains(marker) && !text.contains("pgrep") ? pid : nil
        }
    }

    @Test("the socket is 0660; a second daemon on it is refused; a stale socket is replaced")
    func socketOwnership() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        var info = stat()
        #expect(stat(daemon.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        let second = try WardenTool.run(["serve", "--config", daemon.configPath], timeout: 30, environment: daemon.environment)
        #expect(second.status == 1)
        #expect(second.stderr.contains("already answers on \(daemon.socketPath)"), "\(second.stderr)")
        // Another socket on the same state directory: refused too, and its socket is not left behind.
        let otherSocket = daemon.directory.appendingPathComponent("other.sock").path
        let sharing = try WardenTool.run(["serve", "--config", daemon.configPath, "--socket", otherSocket], timeout: 30, environment: daemon.environment)
        #expect(sharing.status == 1)
        #expect(sharing.stderr.contains("another supervisor uses the state directory"), "\(sharing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: otherSocket))
        #expect(daemon.stop(signal: SIGKILL) == 137)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath), "a killed daemon leaves its socket")
        try daemon.start()   // the stale socket is replaced
        #expect(try daemon.request("GET", "/healthz").status == 200)
    }

    @Test("SIGTERM: new invocations get 503, the running one finishes, exit 0, socket gone, nothing left behind")
    func sigtermDrains() throws {
        let leakedBefore = Set(SandboxScratch.leakedRunCgroups())
        let daemon = try TestDaemon(extra: "\"graceSeconds\": 120")
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let marker = "drain-\(UUID().uuidString.prefix(8))"
        let spec = try TestAgents.spec(in: daemon.directory, name: "drainer", script: TestAgents.gated("go", then: "echo \(marker)"), gate: gate)
        #expect(try daemon.deploy(spec).status == 201)
        let id = try #require((try daemon.json("POST", "/v1/agents/drainer/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        _ = try daemon.waitForRuns { ($0[id]?["state"] as? String) == "running" }
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGTERM)
        // Draining: the API still answers, and refuses new work.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? daemon.json("GET", "/healthz").object["status"] as? String) != "draining" { usleep(10_000) }
        let refused = try daemon.json("POST", "/v1/agents/drainer/invocations", body: Data())
        #expect(refused.status == 503)
        #expect((refused.object["error"] as? [String: Any])?["code"] as? String == "shutting_down")
        FileManager.default.createFile(atPath: gate.appendingPathComponent("go").path, contents: nil)
        #expect(daemon.stop(signal: 0) == 0, "exits 0 after the drain: \(daemon.log())")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        let record = try String(contentsOfFile: daemon.stateDirectory + "/runs/\(id).json", encoding: .utf8)
        #expect(record.contains("\"state\":\"succeeded\""), "the running invocation finished within the grace period")
        #expect(try String(contentsOfFile: daemon.stateDirectory + "/logs/\(id).stdout", encoding: .utf8) == marker + "\n")
        #expect(Self.processes(containing: marker).isEmpty)
        #expect(Set(SandboxScratch.leakedRunCgroups()).subtracting(leakedBefore).isEmpty)
    }

    /// With `execCleansFirst`, a `warden exec` runs between the crash and the restart: its orphan
    /// scan removes the dead daemon's sandbox group before the new daemon looks (as any exec on the
    /// host may), and the record must still say the sandbox is gone.
    @Test("kill -9 mid-run: the restarted daemon keeps the agents, kills the sandbox, marks it interrupted, runs the queued one",
          arguments: [false, true])
    func killNineAndRecover(execCleansFirst: Bool) throws {
        let leakedBefore = Set(SandboxScratch.leakedRunCgroups())
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let gate = daemon.directory.appendingPathComponent("gate")
        let marker = "crash-\(UUID().uuidString.prefix(8))"
        let spec = try TestAgents.spec(in: daemon.directory, name: "victim", script: TestAgents.gated("go", then: "echo \(marker)"), gate: gate)
        #expect(try daemon.deploy(spec, concurrency: 1).status == 201)
        let running = try #require((try daemon.json("POST", "/v1/agents/victim/invocations", body: Data()).object["run"] as? [String: Any])?["id"] as? String)
        let queued = try #require((try daemon.json("POST", "/v1/agents/victim/invocations", body: Data("later".utf8)).object["run"] as? [String: Any])?["id"] as? String)
        _ = try daemon.waitForRuns { ($0[running]?["state"] as? String) == "running" }
        // The sandbox's process.spawn record (naming its cgroup) is on file before the crash.
        try Self.waitForTrace(of: running, in: daemon, containing: "process.spawn")
        #expect(daemon.stop(signal: SIGKILL) == 137)
        FileManager.default.createFile(atPath: gate.appendingPathComponent("go").path, contents: nil)
        if execCleansFirst {
            let exec = try WardenTool.run(["exec", "--", "/bin/true"], environment: daemon.environment)
            #expect(exec.status == 0, "\(exec.stderr)")
        }
        try daemon.start()
        let agents = try daemon.json("GET", "/v1/agents").object["agents"] as? [[String: Any]] ?? []
        #expect(agents.map { $0["name"] as? String } == ["victim"], "the deployment survived the crash")
        let runs = try daemon.waitForRuns { ($0[queued]?["state"] as? String) == "succeeded" }
        #expect(runs[running]?["state"] as? String == "interrupted")
        #expect(try String(contentsOfFile: daemon.stateDirectory + "/logs/\(queued).stdout", encoding: .utf8) == marker + "\n")
        for id in [running, queued] {
            let verify = try WardenTool.run(["trace", "verify", id], environment: daemon.environment)
            #expect(verify.status == 0, "\(id): \(verify.stdout)\(verify.stderr)")
        }
        #expect(daemon.log().contains("1 runs interrupted, 1 requeued"), "\(daemon.log())")
        try Self.expectInterruptedRecord(running, daemon: daemon)
        #expect(daemon.stop() == 0)
        #expect(Self.processes(containing: marker).isEmpty, "no agent of the dead daemon survives")
        #expect(Set(SandboxScratch.leakedRunCgroups()).subtracting(leakedBefore).isEmpty, "the dead daemon's sandbox groups are gone")
    }

    /// Waits (up to a minute) until the run's trace file holds `text` (frames carry their JSON as is).
    static func waitForTrace(of run: String, in daemon: TestDaemon, containing text: String) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: daemon.traceDirectory + "/\(run).trace"),
               String(decoding: data, as: UTF8.self).contains(text) { return }
            usleep(10_000)
        }
        throw DaemonError("the trace of \(run) never held \(text)")
    }

    /// The interrupted run's trace ends with `trace.recovered` then `run.interrupted` (naming the run,
    /// this supervisor, the sandbox group it killed), the index closes it as `interrupted`, and
    /// `warden trace show` says so.
    static func expectInterruptedRecord(_ run: String, daemon: TestDaemon) throws {
        let shown = try WardenTool.run(["trace", "show", run, "--json"], environment: daemon.environment)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], "\(shown.stderr)")
        let records = document["records"] as? [[String: Any]] ?? []
        let types = records.map { $0["type"] as? String ?? "?" }
        #expect(Array(types.suffix(2)) == ["trace.recovered", "run.interrupted"], "\(types)")
        let body = try #require(records.last?["body"] as? [String: Any])
        #expect(body["run"] as? String == run)
        #expect(body["supervisor_pid"] as? Int == Int(daemon.process?.processIdentifier ?? -1), "the restarted supervisor noticed")
        let noticed = try #require(body["noticed_ns"] as? UInt64)
        let started = try #require(records.first?["ts"] as? UInt64)
        #expect(noticed >= started, "noticed after the run started")
        let spawn = try #require(records.first { ($0["type"] as? String) == "process.spawn" })
        let group = try #require((spawn["body"] as? [String: Any])?["cgroup"] as? String)
        let killed = body["killed"] as? [[String: Any]] ?? []
        let groups: [String] = killed.map { $0["cgroup"] as? String ?? "?" }
        #expect(groups == [group], "the sandbox group named by its process.spawn record")
        #expect(killed.first?["removed"] as? Bool == true, "gone, whoever removed it: \(killed)")
        let listing = try WardenTool.run(["trace", "ls", "--json"], environment: daemon.environment)
        let runs = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]] ?? []
        let listed = runs.first { ($0["run"] as? String) == run }
        #expect(listed?["status"] as? String == "interrupted")
        let text = try WardenTool.run(["trace", "show", run], environment: daemon.environment).stdout
        #expect(text.contains("interrupted (supervisor crash)") && text.contains("INTERRUPTED: the supervisor died"), "\(text)")
    }

    @Test("a trace directory that fills up fails closed: the run is stopped and reported, the daemon keeps serving")
    func traceDirectoryFull() throws {
        let leakedBefore = Set(SandboxScratch.leakedRunCgroups())
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try FileManager.default.createDirectory(atPath: daemon.traceDirectory, withIntermediateDirectories: true)
        let mounted = try WardenTool.runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=96k", "tmpfs", daemon.traceDirectory])
        try #require(mounted.status == 0, "cannot mount a tmpfs here: \(mounted.stderr)")
        defer { _ = try? WardenTool.runProcess("/bin/umount", ["-l", daemon.traceDirectory]) }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "chatty", script: "yes 0123456789abcdef | head -c 8000000; echo end")
        #expect(try daemon.deploy(spec).status == 201)
        let (status, answer) = try daemon.json("POST", "/v1/agents/chatty/invocations?wait=true", body: Data())
        #expect(status == 200)
        let run = try #require(answer["run"] as? [String: Any])
        #expect(run["state"] as? String == "error", "\(run)")
        #expect((run["message"] as? String ?? "").contains("trace"), "\(run)")
        #expect(run["signal"] as? Int == 9, "the agent was killed, not left running unaudited: \(run)")
        #expect(try daemon.request("GET", "/healthz").status == 200)
        #expect(daemon.stop() == 0)
        #expect(Set(SandboxScratch.leakedRunCgroups()).subtracting(leakedBefore).isEmpty)
    }

    @Test("a bad configuration is refused with file:line:column (exit 2)")
    func badConfig() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let path = dir.appendingPathComponent("config.json").path
        try "{\n  \"sokcet\": \"/tmp/x.sock\"\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try WardenTool.run(["serve", "--config", path], timeout: 30)
        #expect(result.status == 2)
        #expect(result.stderr.contains(path + ":2:3"), "\(result.stderr)")
        #expect(result.stderr.contains("socket"), "a did-you-mean hint: \(result.stderr)")
    }
}
