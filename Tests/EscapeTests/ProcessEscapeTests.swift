import Foundation
import Glibc
import Testing

extension EscapeSuite {
    /// Descriptors, identity, the terminal and processes of the host.
    @Suite struct Processes {
        /// Opens the secret and the workspace's parent without O_CLOEXEC, so `warden` inherits them.
        private func leakedDescriptors(_ workspace: ProbeWorkspace) throws -> (file: Int32, directory: Int32) {
            let file = open(workspace.secret, O_RDONLY), directory = open(workspace.base, O_RDONLY | O_DIRECTORY)
            try #require(file >= 0 && directory >= 0)
            return (file, directory)
        }

        @Test func inheritedDescriptorsAreClosed() throws {
            let workspace = try ProbeWorkspace()
            let leaked = try leakedDescriptors(workspace)
            defer { close(leaked.file); close(leaked.directory) }
            let run = try ProbeRunner.sandboxed(workspace, ["fds"])
            expectBlocked(run, ["inherited-fds": "EBADF"])
            #expect(run.result("fd-list")?.detail == "0,1,2", "\(run.transcript)")
            #expect(!run.outcome.stdout.text.contains("warden-escape-secret"))
            expectCleanRun(run, workspace)
        }

        /// Negative control: unsandboxed, the probe finds the leaked descriptor and reads the secret.
        @Test func fdsProbeDetectsLeakedDescriptor() throws {
            let workspace = try ProbeWorkspace()
            let leaked = try leakedDescriptors(workspace)
            defer { close(leaked.file); close(leaked.directory) }
            let run = try ProbeRunner.unsandboxed(workspace, ["fds"])
            let details = (run.results["inherited-fds"] ?? []).filter(\.escaped).map(\.detail)
            #expect(details.contains { $0.hasPrefix("fd \(leaked.file) ") && $0.contains("warden-escape-secret") },
                    "\(run.transcript)")
            #expect(details.contains { $0.hasPrefix("fd \(leaked.directory) is directory") }, "\(run.transcript)")
        }

        /// Makes the workspace's probe a setuid-root binary, as an attacker with a shared dir would.
        private func plantSetuid(_ workspace: ProbeWorkspace) throws {
            try #require(chown(workspace.probePath, 0, 0) == 0 && chmod(workspace.probePath, 0o4755) == 0)
        }

        @Test(.enabled(if: getuid() == 0, "planting a setuid-root binary needs root"))
        func plantedSetuidBinaryGainsNothing() throws {
            let workspace = try ProbeWorkspace()
            try plantSetuid(workspace)
            let run = try ProbeRunner.sandboxed(workspace, ["identity", "owner-file"])
            #expect(run.result("setuid-gain")?.status == "blocked", "\(run.transcript)")
            #expect(run.result("capabilities")?.status == "blocked", "\(run.transcript)")
            #expect(run.result("ids")?.detail.contains("nnp=1") == true, "\(run.transcript)")
            if let setuid = run.result("setuid-root") { #expect(setuid.errno == "EPERM") }
            #expect(run.escapes.isEmpty, "\(run.escapes)")
            // Host side: what the probe created belongs to an unprivileged host uid, never root.
            var st = stat()
            try #require(stat(workspace.directory + "/owner-file", &st) == 0, "\(run.transcript)")
            #expect(st.st_uid != 0, "the sandbox wrote a file as host root")
            expectCleanRun(run, workspace)
        }

        /// Negative control: the same setuid binary run by uid 65534 on the host becomes root.
        @Test(.enabled(if: getuid() == 0 && ProbeRunner.hostHas("/usr/bin/setpriv"), "needs root and setpriv"))
        func identityProbeDetectsSetuidGain() throws {
            let workspace = try ProbeWorkspace()
            try plantSetuid(workspace)
            let outcome = try HostSpawn.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                                  workspace.probePath, "identity", "owner-file"],
                                            directory: workspace.directory, deadline: 30)
            let run = ProbeRun(outcome)
            #expect(run.result("setuid-gain")?.escaped == true, "\(run.transcript)")
            #expect(run.result("capabilities")?.escaped == true, "\(run.transcript)")
            var st = stat()
            #expect(stat(workspace.directory + "/owner-file", &st) == 0 && st.st_uid == 0)
        }

        /// A pty pair in raw mode; the slave becomes the probe's stdin.
        private func openPty() throws -> (master: Int32, slave: Int32) {
            let master = PtyCalls.openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(master >= 0 && PtyCalls.grantpt(master) == 0 && PtyCalls.unlockpt(master) == 0)
            let name = try #require(PtyCalls.ptsname(master))
            let slave = open(String(cString: name), O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(slave >= 0)
            var mode = termios()
            tcgetattr(slave, &mode)
            cfmakeraw(&mode)
            tcsetattr(slave, TCSANOW, &mode)
            return (master, slave)
        }

        /// Bytes waiting in the slave's input queue: what TIOCSTI would have typed.
        private func injected(_ slave: Int32) -> String {
            _ = fcntl(slave, F_SETFL, O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = read(slave, &buffer, buffer.count)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        }

        @Test func terminalInjectionIsRefused() throws {
            let workspace = try ProbeWorkspace()
            let pty = try openPty()
            defer { close(pty.master); close(pty.slave) }
            let run = try ProbeRunner.sandboxed(workspace, ["tty"], stdin: pty.slave)
            expectBlocked(run, ["tiocsti-stdin": "EPERM", "dev-tty": "ENOENT"])
            #expect(injected(pty.slave) == "", "keystrokes reached the host terminal")
            expectCleanRun(run, workspace)
        }

        /// Negative control: root on the host can type into the pty, and the test sees it.
        @Test(.enabled(if: getuid() == 0 && ProbeRunner.legacyTIOCSTI, "needs root and dev.tty.legacy_tiocsti=1"))
        func ttyProbeDetectsInjection() throws {
            let workspace = try ProbeWorkspace()
            let pty = try openPty()
            defer { close(pty.master); close(pty.slave) }
            let run = try ProbeRunner.unsandboxed(workspace, ["tty"], stdin: pty.slave)
            #expect(run.result("tiocsti-stdin")?.escaped == true, "\(run.transcript)")
            #expect(injected(pty.slave) == "id\n")
        }
    }
}

extension ProbeRunner {
    /// Whether this kernel still lets TIOCSTI through for privileged callers without a ctty check.
    static var legacyTIOCSTI: Bool {
        (try? String(contentsOfFile: "/proc/sys/dev/tty/legacy_tiocsti", encoding: .utf8))?.hasPrefix("1") ?? true
    }
}

/// The libc pty calls, which Swift's Glibc module hides (they need _XOPEN_SOURCE), looked up by name.
enum PtyCalls {
    private static func symbol<T>(_ name: String, as type: T.Type) -> T {
        // RTLD_DEFAULT is the null handle; libc is always loaded, so the lookup cannot fail.
        unsafeBitCast(dlsym(nil, name), to: type)
    }

    static let openpt = symbol("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
    static let grantpt = symbol("grantpt", as: (@convention(c) (Int32) -> Int32).self)
    static let unlockpt = symbol("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
    static let ptsname = symbol("ptsname", as: (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self)
}
