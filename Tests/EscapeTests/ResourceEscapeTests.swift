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

        @Test func fileSizeLimitSignalsSIGXFSZ() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["fsize", "signal", "512"])
            #expect(run.number("signal") == Int(SIGXFSZ), "\(run.transcript)")
            #expect(run.outcome.exitCode == 128 + SIGXFSZ)
            #expect(run.escapes.isEmpty, "\(run.escapes)")
            var st = stat()
            #expect(stat(workspace.directory + "/big", &st) != 0 || st.st_size <= 64 * Self.mib)
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

        @Test func stdoutFloodIsBoundedAndWardenStaysSmall() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["flood", "2"], deadline: 120)
            let flood = run.result("flood")?.detail ?? ""
            #expect(flood == "bytes=\(2 << 30)", "the probe did not get its 2 GiB out: \(run.transcript)")
            #expect(run.outcome.stdout.total < 256 * Self.mib, "warden forwarded \(run.outcome.stdout.total) bytes")
            #expect((run.number("stdoutDropped") ?? 0) > 0, "\(run.transcript)")
            #expect(run.outcome.maxRSSKiB < 100 * 1024, "warden peak RSS \(run.outcome.maxRSSKiB) KiB")
            #expect(run.number("exitCode") == 0)
            expectCleanRun(run, workspace)
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
