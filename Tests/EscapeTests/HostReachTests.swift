import Foundation
import Glibc
import Testing

/// A host `sleep` with a unique duration in its command line, killed on deinit.
final class HostSleeper {
    let pid: pid_t
    let marker = "3600.\(UInt32.random(in: 100_000...999_999))"

    init() throws {
        var pid: pid_t = 0
        let words: [String] = ["/bin/sleep", marker]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ)
        guard rc == 0 else { throw HostSpawn.SpawnError(description: "spawn sleep: \(rc)") }
        self.pid = pid
    }

    /// Alive and not a zombie.
    var alive: Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !(stat.split(separator: ")").last?.hasPrefix(" Z") ?? true)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// A TCP listener on 127.0.0.1 of the host, on a kernel-chosen port.
final class LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, listen(fd, 16) == 0 else {
            if fd >= 0 { close(fd) }
            throw HostSpawn.SpawnError(description: "loopback listener")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a connection has arrived (accepts and closes it).
    var connectionArrived: Bool {
        let client = accept(fd, nil, nil)
        if client >= 0 { close(client) }
        return client >= 0
    }

    deinit { close(fd) }
}

extension EscapeSuite {
    /// Processes, kernel interfaces and the network of the host.
    @Suite struct HostReach {
        @Test func hostProcessesAreInvisibleAndUntouchable() throws {
            let workspace = try ProbeWorkspace()
            let sleeper = try HostSleeper()
            let run = try ProbeRunner.sandboxed(workspace, ["hostproc", String(sleeper.pid), sleeper.marker, "all"])
            expectBlocked(run, [
                "proc-shows-host": "ENOENT", "kill-probe": "ESRCH", "ptrace-attach": "EPERM", "pidfd-open": "ESRCH",
                "process-vm-readv": "EPERM", "kill-sigkill": "ESRCH", "kill-all": "ESRCH",
            ])
            #expect(run.result("visible-processes")?.detail == "1", "\(run.transcript)")
            #expect(run.result("parent")?.detail.hasPrefix("ppid=0 ") == true, "\(run.transcript)")
            #expect(sleeper.alive, "the host process was killed from inside the sandbox")
            expectCleanRun(run, workspace)
        }

        /// Negative control: unsandboxed, the probe sees the sleeper and kills it.
        @Test func hostprocProbeDetectsHostProcess() throws {
            let workspace = try ProbeWorkspace()
            let sleeper = try HostSleeper()
            let run = try ProbeRunner.unsandboxed(workspace, ["hostproc", String(sleeper.pid), sleeper.marker])
            #expect(run.result("proc-shows-host")?.escaped == true, "\(run.transcript)")
            #expect(run.result("kill-sigkill")?.escaped == true, "\(run.transcript)")
            var status: Int32 = 0
            #expect(waitpid(sleeper.pid, &status, 0) == sleeper.pid && (status & 0x7f) == SIGKILL)
        }

        @Test func namespaceKernelAndAdminCallsAreDenied() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["syscalls"])
            var expected: [String: String] = [:]
            for name in ["unshare-user", "unshare-mount", "unshare-net", "unshare-cgroup", "setns", "clone-newuser",
                         "clone-newns-newpid", "fsopen", "open-tree-clone", "chroot", "keyctl", "add-key", "request-key",
                         "bpf", "perf-event-open", "userfaultfd", "io-uring-setup", "init-module", "finit-module",
                         "kexec-load", "reboot", "settimeofday", "swapon", "acct", "personality-rx"] {
                expected[name] = "EPERM"
            }
            expected["clone3-newuser"] = "ENOSYS"
            expectBlocked(run, expected)
            expectCleanRun(run, workspace)
        }

        @Test func networkReachesNothing() throws {
            let workspace = try ProbeWorkspace()
            let listener = try LoopbackListener()
            let run = try ProbeRunner.sandboxed(workspace, ["net", String(listener.port), "outside"])
            expectBlocked(run, [
                "raw-inet": "EPERM", "raw-inet6": "EPERM", "packet": "EPERM", "af-alg": "EPERM", "af-vsock": "EPERM",
                "connect-host-loopback": "ECONNREFUSED", "connect-outside": "ENETUNREACH",
            ])
            #expect(run.result("interfaces")?.detail == "lo", "\(run.transcript)")
            #expect(!listener.connectionArrived, "the sandbox connected to the host's loopback service")
            expectCleanRun(run, workspace)
        }

        /// Negative control: unsandboxed, the probe reaches the loopback service and the test sees it.
        @Test func netProbeDetectsHostConnection() throws {
            let workspace = try ProbeWorkspace()
            let listener = try LoopbackListener()
            let run = try ProbeRunner.unsandboxed(workspace, ["net", String(listener.port)])
            #expect(run.result("connect-host-loopback")?.escaped == true, "\(run.transcript)")
            #expect(listener.connectionArrived)
        }
    }
}
