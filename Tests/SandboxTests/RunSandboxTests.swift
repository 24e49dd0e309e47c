import Foundation
import Glibc
import Testing
@testable import Sandbox
import HostOS

/// Whole runs through the in-process API: real sandboxes, real processes, real cgroups.
@Suite("sandbox runs", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here"))
struct RunSandboxTests {
    static func capture(_ arguments: [String], confirmExecAtExit: Bool = false,
                        edit: (inout SandboxRun.Request) -> Void = { _ in }) throws -> SandboxRun.Result {
        var request = SandboxRun.Request(arguments: arguments)
        request.cgroupLimits = .init(memoryBytes: 256 << 20, pids: 64, cpuCores: 1)
        edit(&request)
        var settings = SandboxRun.Settings(stdout: .capture, stderr: .capture)
        settings.confirmExecAtExit = confirmExecAtExit
        return try SandboxRun.execute(request, settings: settings)
    }

    @Test("exit code, stdout and stderr come back; the run is in pid 1 of its own namespace",
          arguments: [false, true])
    func basics(confirmExecAtExit: Bool) throws {
        let result = try Self.capture(["/bin/sh", "-c", "echo $$; echo err >&2; exit 3"], confirmExecAtExit: confirmExecAtExit)
        #expect(result.report.exitCode == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "1\n")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "err\n")
        #expect(result.report.cgroupMode == Cgroups.Layout.host.mode)
    }

    @Test("a double-forked background process does not outlive the run")
    func doubleFork() throws {
        let marker = "warden-orphan-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let result = try Self.capture(["/bin/sh", "-c", "(exec -a \(marker) /bin/sleep 300 &) ; echo started"])
        #expect(String(decoding: result.stdout, as: UTF8.self) == "started\n")
        #expect(RunHost.processes(named: marker) == 0)
    }

    @Test("a wall-clock timeout kills a process that ignores SIGTERM")
    func timeout() throws {
        let result = try Self.capture(["/bin/sh", "-c", "trap '' TERM; while :; do :; done"]) {
            $0.timeoutNanos = 300_000_000
        }
        #expect(result.report.timedOut)
        #expect(result.report.signal == SIGKILL)
        #expect(result.report.exitStatus == 124)
    }

    @Test("a fork bomb stops at the pids limit and is reported; the supervisor stays responsive")
    func forkBomb() throws {
        let result = try Self.capture(["/bin/sh", "-c", "i=0; while [ $i -lt 64 ]; do /bin/sleep 5 & i=$((i+1)); done; exit 0"]) {
            $0.cgroupLimits.pids = 8
            $0.timeoutNanos = 20_000_000_000
        }
        #expect(result.report.pidsLimitHit)
        #expect(!result.report.timedOut)
    }

    @Test("a flood of output is forwarded up to the limit and the rest drained and counted")
    func flood() throws {
        var request = SandboxRun.Request(arguments: ["/usr/bin/head", "-c", String(200 << 20), "/dev/zero"])
        request.cgroupLimits = .init(memoryBytes: 64 << 20, pids: 8)
        let result = try SandboxRun.execute(request, settings: .init(outputLimit: 1 << 20, stdout: .capture, stderr: .capture))
        #expect(result.report.exitCode == 0)
        #expect(result.stdout.count == 1 << 20)
        #expect(result.report.stdoutBytes == 1 << 20)
        #expect(result.report.stdoutDropped == (200 << 20) - (1 << 20))
        #expect(result.report.summary.contains("bytes of stdout dropped"))
    }

    /// Other suites run sandboxes concurrently, so the counts are of this run's own things: its
    /// named cgroup, host mounts, and the pid the launcher started.
    @Test("setup failures leave no process, mount, cgroup or workspace behind",
          arguments: ["/no/such/program", "missing-bind", "bad-cwd"], [false, true])
    func setupFailure(kind: String, confirmExecAtExit: Bool) throws {
        let name = "run-\(getpid())-\(processStartTime(getpid()) ?? 0)-leak-\(kind)-\(confirmExecAtExit)"
        let mountsBefore = RunHost.mountCount()
        var settings = SandboxRun.Settings(stdout: .capture, stderr: .capture)
        settings.runName = name
        settings.confirmExecAtExit = confirmExecAtExit
        var request = SandboxRun.Request(arguments: [kind == "/no/such/program" ? kind : "/bin/true"])
        request.cgroupLimits = .init(memoryBytes: 64 << 20, pids: 8)
        if kind == "missing-bind" { request.mounts.bindReadOnly("/no/such/dir", at: "/data") }
        if kind == "bad-cwd" { request.workingDirectory = "/no/such/cwd" }
        var failure: SandboxRun.Error?
        do { _ = try SandboxRun.execute(request, settings: settings) } catch { failure = error }
        #expect(failure != nil)
        if let pid = failure?.pid { #expect(kill(pid, 0) != 0, "the started process was reaped") }
        #expect(RunHost.mountCount() == mountsBefore)
        let layout = Cgroups.Layout.host
        for own in layout.v1.map(\.ownDirectory) + (layout.v2.map { [$0.ownDirectory] } ?? []) {
            #expect(!CgroupFile.exists(own + "/warden/" + name))
        }
    }
}

extension RunSandboxTests {
    /// A failure the child reports after the run stopped waiting for exec is the same error, with
    /// the same exit status, as when the run waits; and the program's own failures stay its own.
    @Test("a run that learns of exec at exit reports setup failures exactly as one that waits",
          arguments: ["/no/such/program", "/usr/share/dict/../../lib/os-release", "bad-cwd", "ro-target"])
    func confirmedAtExitSameErrors(kind: String) throws {
        func failure(_ confirmExecAtExit: Bool) -> SandboxRun.Error? {
            var request = SandboxRun.Request(arguments: [kind.hasPrefix("/") ? kind : "/bin/true"])
            request.cgroupLimits = .init(memoryBytes: 64 << 20, pids: 8)
            if kind == "bad-cwd" { request.workingDirectory = "/no/such/cwd" }
            if kind == "ro-target" { request.mounts.tmpfs(at: "/usr/warden-not-here", sizeBytes: 1 << 20) }
            var settings = SandboxRun.Settings(stdout: .capture, stderr: .capture)
            settings.confirmExecAtExit = confirmExecAtExit
            do { _ = try SandboxRun.execute(request, settings: settings) } catch { return error }
            return nil
        }
        let waited = try #require(failure(false))
        let atExit = try #require(failure(true))
        #expect(atExit.code == waited.code)
        #expect(atExit.errno == waited.errno)
        #expect(atExit.message.replacingOccurrences(of: "\(atExit.pid ?? 0)", with: "P")
                == waited.message.replacingOccurrences(of: "\(waited.pid ?? 0)", with: "P"))
        #expect(atExit.pid.map { kill($0, 0) != 0 } ?? true, "the started process was reaped")
        let own = try Self.capture(["/bin/sh", "-c", "exit 127"], confirmExecAtExit: true)
        #expect(own.report.exitCode == 127, "a program that exits 127 is not a setup failure")
    }
}

/// Host-side counts for leak checks.
enum RunHost {
    static func mountCount() -> Int {
        (CgroupFile.read("/proc/self/mountinfo") ?? "").split(separator: "\n").count
    }


    static func processes(named marker: String) -> Int {
        entries("/proc").compactMap { Int32($0) }.filter { pid in
            (CgroupFile.read("/proc/\(pid)/cmdline") ?? "").contains(marker)
        }.count
    }

    static func entries(_ path: String) -> [String] { Cgroups.subdirectories(of: path) + files(path) }

    static func files(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type != UInt8(DT_DIR) else { continue }
            names.append(withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            })
        }
        return names
    }
}
