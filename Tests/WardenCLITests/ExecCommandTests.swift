import Foundation
import Testing
import TestSupport

/// `warden exec` end to end: real sandboxes, real processes, through the built binary.
@Suite("warden exec", .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct ExecCommandTests {
    @Test("the command's exit status passes through", arguments: [0, 1, 7, 42])
    func exitStatus(code: Int) throws {
        let result = try WardenTool.run(["exec", "--", "/bin/sh", "-c", "exit \(code)"])
        #expect(result.status == Int32(code))
        #expect(code == 0 ? result.stderr.isEmpty : result.stderr.contains("exited with status \(code)"))
    }

    /// The command is pid 1 of its namespace, which ignores signals it sends itself, so the death
    /// comes from a fault (forced signals do kill an init).
    @Test("a signal death is 128+N and named on stderr")
    func signal() throws {
        let result = try WardenTool.run(["exec", "--", "/usr/bin/python3", "-c", "import ctypes; ctypes.string_at(0)"])
        #expect(result.status == 128 + 11)
        #expect(result.stderr.contains("SIGSEGV"))
    }

    @Test("stdout and stderr stream through separately")
    func streams() throws {
        let result = try WardenTool.run(["exec", "--", "/bin/sh", "-c", "echo out; echo err >&2"])
        #expect(result.status == 0)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test("a missing command is a usage error; a command that does not exist is 127")
    func missingCommand() throws {
        let none = try WardenTool.run(["exec", "--"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("missing command"))
        let absent = try WardenTool.run(["exec", "--", "/no/such/program"])
        #expect(absent.status == 127)
        #expect(absent.stderr.contains("/no/such/program"))
    }

    @Test("the workspace is /workspace, the working directory, and writable by the agent")
    func workspace() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        try "from host\n".write(to: dir.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
        chmod(dir.path, 0o777)
        let result = try WardenTool.run(["exec", "--workspace", dir.path, "--", "/bin/sh", "-c",
                                         "pwd; cat in.txt; echo from agent > out.txt"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "/workspace\nfrom host\n")
        let written = try String(contentsOf: dir.appendingPathComponent("out.txt"), encoding: .utf8)
        #expect(written == "from agent\n")
    }

    @Test("without --workspace, /workspace is a fresh writable tmpfs private to the run")
    func temporaryWorkspace() throws {
        let script = "test -z \"$(ls -A /workspace)\" && echo x > /workspace/f && cat /workspace/f && " +
            "grep ' /workspace ' /proc/self/mounts | cut -d' ' -f3"
        let first = try WardenTool.run(["exec", "--", "/bin/sh", "-c", script])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "x\ntmpfs\n")
        let second = try WardenTool.run(["exec", "--", "/bin/sh", "-c", script])
        #expect(second.stdout == "x\ntmpfs\n", "the next run starts empty again")
    }

    @Test("a command past its wall-clock timeout is killed, exit 124, reported as a timeout")
    func timeout() throws {
        let result = try WardenTool.run(["exec", "--timeout", "0.5", "--", "/bin/sh", "-c",
                                         "trap '' TERM; while :; do :; done"], timeout: 30)
        #expect(!result.timedOut)
        #expect(result.status == 124)
        #expect(result.stderr.contains("timeout"))
    }

    @Test("an allocator past the memory limit is OOM-killed and reported as OOM")
    func outOfMemory() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let policy = try SandboxScratch.policy(in: dir, limits: ["memory": "32MiB"])
        let result = try WardenTool.run(["exec", "--policy", policy.path, "--json", "--", "/usr/bin/python3", "-c",
                                         "b = b'x' * (512 << 20)"])
        #expect(result.status == 137, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["oomKilled"] as? Bool == true)
        #expect(report["signal"] as? Int == 9)
    }

    @Test("--json prints one parseable report with the captured output")
    func json() throws {
        let result = try WardenTool.run(["exec", "--json", "--", "/bin/sh", "-c", "echo hi; exit 3"])
        #expect(result.status == 3)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["exitCode"] as? Int == 3)
        #expect(report["stdout"] as? String == "hi\n")
        #expect(report["timedOut"] as? Bool == false)
        #expect(["v2", "hybrid", "v1", "none"].contains(report["cgroupMode"] as? String ?? ""))
    }

    @Test("a bad policy is exit 2 with file:line:column")
    func badPolicy() throws {
        let dir = try SandboxScratch.directory()
        defer { SandboxScratch.remove(dir) }
        let file = dir.appendingPathComponent("bad.json")
        try "{\n  \"name\": \"bad\",\n  \"frobnicate\": true\n}\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try WardenTool.run(["exec", "--policy", file.path, "--", "/bin/true"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(file.path):"))
        #expect(result.stderr.range(of: #":\d+:\d+:"#, options: .regularExpression) != nil)
    }

    @Test("runs leave no cgroup behind, also when setup fails")
    func noLeftovers() throws {
        #expect(try WardenTool.run(["exec", "--", "/bin/true"]).status == 0)
        #expect(try WardenTool.run(["exec", "--", "/no/such/program"]).status == 127)
        #expect(try WardenTool.run(["exec", "--workspace", "/no/such/dir", "--", "/bin/true"]).status == 1)
        #expect(SandboxScratch.leakedRunCgroups() == [])
    }

    @Test("a run removes the cgroups a killed supervisor left behind")
    func orphans() throws {
        let parent = "/sys/fs/cgroup/pids/warden"
        guard FileManager.default.fileExists(atPath: parent) || (try? FileManager.default.createDirectory(
            atPath: parent, withIntermediateDirectories: false)) != nil else { return }
        let orphan = parent + "/run-999999999-7-1-test"
        try FileManager.default.createDirectory(atPath: orphan, withIntermediateDirectories: false)
        #expect(try WardenTool.run(["exec", "--", "/bin/true"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: orphan))
    }
}
