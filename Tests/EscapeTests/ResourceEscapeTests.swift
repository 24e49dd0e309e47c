import Foundation
import Glibc
import Testing

extension EscapeSuite {
    /// Limits: disk, file size, pids, memory, wall time; outliving the run; flooding output.
    @Suite struct Resources {
        static let mib = 1 << 20

        @Test func tmpFillsUpAtItsSize() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["fill-tmp", "1024"])
            expectBlocked(run, ["fill-tmp": "ENOSPC"])
            let bytes = Int(run.result("fill-tmp")?.detail.split(separator: "=").last ?? "") ?? -1
            #expect(bytes > 0 && bytes <= 64 * Self.mib, "wrote \(bytes) bytes into a 64 MiB /tmp")
            expectCleanRun(run, workspace)
        }

        @Test func writesStopAtTheFileSizeLimit() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["fsize", "ignore", "512"])
            expectBlocked(run, ["fsize": "EFBIG"])
            #expect(run.result("fsize")?.detail.hasSuffix("bytes=\(64 * Self.mib)") == true, "\(run.transcript)")
            expectCleanRun(run, workspace)
        }

        /// A writer that is not the sandbox's init dies of SIGXFSZ (init ignores default-action
        /// signals, so the probe forks one); the file it leaves is exactly the limit.
        @Test func fileSizeLimitSignalsSIGXFSZ() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["fsize", "signal", "512"])
            #expect(run.result("fsize")?.detail == "signal=XFSZ", "\(run.transcript)")
            #expect(run.escapes.isEmpty, "\(run.escapes)")
            var st = stat()
            #expect(stat(workspace.directory + "/big", &st) == 0 && st.st_size == 64 * Self.mib,
                    "the host sees \(st.st_size) bytes, the limit is 64 MiB")
            expectCleanRun(run, workspace)
        }

        @Test func forkBombStopsAtThePidsLimit() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["forkbomb"])
            expectBlocked(run, ["forkbomb": "EAGAIN"])
            let children = Int(run.result("forkbomb")?.detail.split(separator: "=").last ?? "") ?? -1
            #expect(children > 0 && children < 128, "\(run.transcript)")
            #expect(run.flag("pidsLimitHit"), "\(run.transcript)")
            #expect(run.number("exitCode") == 0)
            expectCleanRun(run, workspace)
        }

        @Test func memoryBombIsKilledByTheCgroup() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["membomb", "4096"])
            #expect(run.flag("oomKilled"), "\(run.transcript)")
            #expect(run.number("signal") == Int(SIGKILL), "\(run.transcript)")
            #expect(run.result("membomb") == nil, "the probe survived its allocations: \(run.transcript)")
            expectCleanRun(run, workspace)
        }

        @Test func spinnerIgnoringSIGTERMIsKilledAtTheTimeout() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["spin"], options: ["--timeout", "2"], deadline: 30)
            #expect(run.flag("timedOut"), "\(run.transcript)")
            #expect(run.outcome.exitCode == 124, "\(run.transcript)")
            #expect(run.result("spin")?.status == "info", "the probe never started: \(run.transcript)")
            expectCleanRun(run, workspace)
        }

        @Test func daemonDoesNotOutliveTheRun() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["daemonize"], deadline: 30)
            #expect(run.result("daemonize")?.detail == "daemon started=1", "\(run.transcript)")
            #expect(run.number("exitCode") == 0, "\(run.transcript)")
            expectCleanRun(run, workspace)
        }

        /// Negative control for the survivor check: unsandboxed, the daemon lives on and is found.
        @Test func survivorCheckFindsADaemon() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.unsandboxed(workspace, ["daemonize"])
            #expect(run.result("daemonize")?.detail == "daemon started=1")
            let survivors = HostFacts.processes(named: workspace.probeName)
            #expect(survivors.count == 1, "the survivor check missed the daemon")
            survivors.forEach { kill($0, SIGKILL) }
        }

        /// Negative control for the cgroup check: a leftover run directory is found.
        @Test(.enabled(if: getuid() == 0 && !HostFacts.wardenParents().isEmpty, "needs a writable warden cgroup parent"))
        func cgroupCheckFindsALeftoverGroup() throws {
            let parent = try #require(HostFacts.wardenParents().first)
            let fakeSupervisor: Int32 = 999_999_999
            let leftover = parent + "/run-\(fakeSupervisor)-escape-control"
            try #require(mkdir(leftover, 0o755) == 0, "mkdir \(leftover): \(String(cString: strerror(errno)))")
            defer { rmdir(leftover) }
            #expect(HostFacts.cgroupDirectories(ofSupervisor: fakeSupervisor) == [leftover])
        }

        /// 2 GiB on stdout: warden forwards (streaming) or captures (--json) its 16 MiB limit,
        /// drains the rest so the probe never blocks, and its own peak RSS does not follow the flood.
        @Test(arguments: [false, true])
        func stdoutFloodIsBoundedAndWardenStaysSmall(json: Bool) throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["flood", "2048"], json: json, deadline: 120)
            // The flood, then the probe's closing line ("RESULT done ...") on the same stream.
            let flood = 2 << 30, closing = "RESULT done info group=flood\n".utf8.count, limit = 16 * Self.mib
            #expect(run.result("flood")?.detail == "bytes=\(flood)", "the probe did not get its 2 GiB out")
            #expect(run.outcome.exitCode == 0, "\(run.transcript)")
            if json {
                #expect(run.number("stdoutBytes") == limit && run.number("stdoutDropped") == flood + closing - limit,
                        "report: stdoutBytes \(run.number("stdoutBytes") ?? -1) dropped \(run.number("stdoutDropped") ?? -1)")
                #expect(run.outcome.stdout.total < 4 * limit, "warden printed \(run.outcome.stdout.total) bytes")
            } else {
                #expect(run.outcome.stdout.total == limit, "warden forwarded \(run.outcome.stdout.total) bytes")
            }
            // Measured peaks: ~13 MiB streaming; ~95 MiB with --json, where the 16 MiB capture is
            // turned into a JSON string (the same for a 16 MiB and a 2 GiB flood).
            let ceiling = json ? 128 * 1024 : 48 * 1024
            #expect(run.outcome.maxRSSKiB < ceiling, "warden peak RSS \(run.outcome.maxRSSKiB) KiB")
            expectCleanRun(run, workspace, json: json)
        }

        @Test(arguments: ["x32", "int80"])
        func foreignSyscallABIIsKilled(abi: String) throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["x32", abi])
            #expect(run.flag("seccompKilled"), "\(run.transcript)")
            #expect(run.number("signal") == Int(SIGSYS), "\(run.transcript)")
            #expect(run.escapes.isEmpty, "\(run.escapes)")
            expectCleanRun(run, workspace)
        }
    }
}
