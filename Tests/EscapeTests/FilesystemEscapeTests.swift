import Foundation
import Glibc
import Testing

extension EscapeSuite {
    /// Host files by path, /proc/1/root, `..`, planted symlinks, hard links, home directories.
    @Suite struct Filesystem {
        /// Plants the host-side symlinks the `files` probe follows.
        private func prepared() throws -> ProbeWorkspace {
            let workspace = try ProbeWorkspace()
            try workspace.plantLink("link-secret", to: workspace.secret)
            try workspace.plantLink("link-shadow", to: "/etc/shadow")
            try workspace.plantLink("link-victim", to: workspace.victim)
            return workspace
        }

        @Test func hostFilesStayOutOfReach() throws {
            let workspace = try prepared()
            let run = try ProbeRunner.sandboxed(workspace, ["files", workspace.secret, workspace.victim])
            expectBlocked(run, [
                "etc-shadow": "ENOENT", "home-root": "ENOENT", "home-users": "ENOENT",
                "secret-by-path": "ENOENT", "proc1-root-secret": "ENOENT", "proc1-root-shadow": "ENOENT",
                "dotdot-secret": "ENOENT", "host-planted-link": "ENOENT", "host-planted-shadow-link": "ENOENT",
                "host-planted-link-write": "ENOENT", "inner-link": "ENOENT", "hardlink-out": "EXDEV",
            ])
            #expect(run.number("exitCode") == 0, "\(run.transcript)")
            expectCleanRun(run, workspace)
            // The link the probe planted is there for the host to trip over; the host never followed it.
            let inner = try? FileManager.default.destinationOfSymbolicLink(atPath: workspace.directory + "/inner-link")
            #expect(inner == workspace.secret)
        }

        /// Negative control: the same probe on the host reads the secret and overwrites the victim.
        @Test(.enabled(if: getuid() == 0, "the control reads a root-only file"))
        func filesProbeDetectsHostAccess() throws {
            let workspace = try prepared()
            let run = try ProbeRunner.unsandboxed(workspace, ["files", workspace.secret, workspace.victim])
            for name in ["secret-by-path", "dotdot-secret", "host-planted-link", "inner-link", "host-planted-link-write"] {
                #expect(run.result(name)?.escaped == true, "\(name) not detected: \(run.transcript)")
            }
            #expect(run.result("secret-by-path")?.detail.contains("warden-escape-secret") == true)
            #expect(!workspace.hostFilesIntact, "the host-side check must see the overwritten victim")
        }

        @Test func mountsAndCgroupsStayLocked() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["mounts"])
            expectBlocked(run, [
                "remount-usr-rw": "EPERM", "remount-root-rw": "EPERM", "bind-root": "EPERM",
                "mount-tmpfs": "EPERM", "mount-proc": "EPERM", "mount-sysfs": "EPERM",
                "mount-cgroup2": "EPERM", "mount-cgroup-v1": "EPERM", "umount-proc": "EPERM",
                "umount-usr": "EPERM", "umount-root": "EPERM", "write-usr": "EROFS",
                "cgroup-move-root": "ENOENT", "cgroup-move-v1": "ENOENT",
            ])
            expectCleanRun(run, workspace)
            #expect(!FileManager.default.fileExists(atPath: "/usr/.warden-escape-probe"))
        }

        @Test func kernelControlFilesAndOwnExecutable() throws {
            let workspace = try ProbeWorkspace()
            let corePattern = try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)
            let warden = FileManager.default.contents(atPath: ProbeRunner.wardenBinary)
            let run = try ProbeRunner.sandboxed(workspace, ["procfs"])
            expectBlocked(run, [
                "core-pattern": "EROFS", "sysrq-trigger": ProbeRunner.hostHas("/proc/sysrq-trigger") ? "EROFS" : "ENOENT",
                "modprobe-path": "EROFS", "uevent-helper": "ENOENT", "self-exe": "ETXTBSY",
            ])
            expectCleanRun(run, workspace)
            #expect((try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)) == corePattern)
            #expect(FileManager.default.contents(atPath: ProbeRunner.wardenBinary) == warden, "the warden binary changed")
        }

        /// Negative control: root on the host may open core_pattern for writing (it does not write).
        @Test(.enabled(if: getuid() == 0, "needs root on the host"))
        func procfsProbeDetectsWritableControlFiles() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.unsandboxed(workspace, ["procfs"])
            #expect(run.result("core-pattern")?.escaped == true, "\(run.transcript)")
        }

        @Test func devicesCannotBeMadeOrOpened() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["devices"])
            expectBlocked(run, [
                "mknod-char-mem": "EPERM", "mknod-block-sda": "EPERM", "dev-mem": "ENOENT",
                "dev-kmsg": "ENOENT", "dev-sda": "ENOENT", "dev-vda": "ENOENT",
            ])
            expectCleanRun(run, workspace)
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/node-mem"))
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/node-sda"))
        }

        @Test func openByHandleIsDenied() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["handle"])
            expectBlocked(run, ["open-by-handle": "EPERM"])
            #expect(run.result("name-to-handle")?.errno == "EPERM")
            expectCleanRun(run, workspace)
        }

        /// Negative control: root on the host turns a handle back into an open directory.
        @Test(.enabled(if: getuid() == 0, "needs CAP_DAC_READ_SEARCH"))
        func handleProbeDetectsOpenByHandle() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.unsandboxed(workspace, ["handle"])
            #expect(run.result("open-by-handle")?.escaped == true, "\(run.transcript)")
        }
    }
}
