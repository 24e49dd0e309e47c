import Glibc
import Sandbox
import Specs
import Testing

/// Installs the compiled filters in a child process (Swift Testing exit tests) and checks what the
/// kernel then does with real system calls. Each check exits with its own status on failure, so a
/// failing run names the check.
@Suite("Seccomp filter behaviour")
struct SeccompFilterBehaviourTests {
    @Test("default policy: allowed calls work, namespaces, raw/packet sockets, TIOCSTI and ptrace are denied")
    func defaultPolicy() async {
        await #expect(processExitsWith: .success) {
            typealias S = SeccompTestSupport
            guard let policy = try? S.policy("default"), let program = try? SeccompCompiler.compile(policy.seccomp),
                  S.install(program) else { exit(100) }
            let checks: [(Int, Bool)] = [
                (1, S.call(S.NR.getpid) == Int(getpid())),
                (2, S.call(S.NR.unshare, 0x1000_0000 /* CLONE_NEWUSER */) == -Int(EPERM)),
                (3, S.call(S.NR.unshare, 0x4000_0000 /* CLONE_NEWNET */) == -Int(EPERM)),
                (4, S.call(S.NR.socket, 17 /* AF_PACKET */, 3 /* SOCK_RAW */) == -Int(EPERM)),
                (5, S.call(S.NR.socket, 2 /* AF_INET */, 3 /* SOCK_RAW */, 1) == -Int(EPERM)),
                (6, S.call(S.NR.socket, 38 /* AF_ALG */, 5) == -Int(EPERM)),
                (7, S.call(S.NR.socket, 0x1_0000_0011 /* AF_PACKET with high bits set */, 3) == -Int(EPERM)),
                (8, { let fd = S.call(S.NR.socket, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */); if fd >= 0 { close(Int32(fd)) }; return fd >= 0 }()),
                (9, { let fd = S.call(S.NR.socket, 2 /* AF_INET */, 0x80001 /* STREAM|CLOEXEC */); if fd >= 0 { close(Int32(fd)) }; return fd >= 0 }()),
                (10, S.call(S.NR.clone3, 0, 0) == -Int(ENOSYS)),
                (11, S.call(S.NR.ioctl, 0, 0x5412 /* TIOCSTI */, 0) == -Int(EPERM)),
                (12, S.call(S.NR.ioctl, 0, 0x1_0000_5412 /* TIOCSTI with high bits set */, 0) == -Int(EPERM)),
                (13, S.call(S.NR.ioctl, 0, 0x541C /* TIOCLINUX */, 0) == -Int(EPERM)),
                (14, S.call(S.NR.ioctl, 1_000_000 /* bad fd */, 0x5413 /* TIOCGWINSZ */, 0) == -Int(EBADF)),
                (15, S.call(S.NR.personality, 0xFFFF_FFFF) >= 0),
                (16, S.call(S.NR.personality, 0x0040000 /* ADDR_NO_RANDOMIZE */) == -Int(EPERM)),
                (17, S.call(S.NR.ptrace, 16 /* PTRACE_ATTACH */, 1) == -Int(EPERM)),
                (18, S.call(S.NR.mount, 0, 0, 0) == -Int(EPERM)),
                (19, S.call(S.NR.keyctl, 0) == -Int(EPERM)),
                (20, S.call(S.NR.unshare, 0x400 /* CLONE_FILES */) == 0),
            ]
            for (code, passed) in checks where !passed { exit(Int32(code)) }
            exit(0)
        }
    }

    @Test("x32 syscall numbers kill the process (bad-arch action)")
    func x32() async {
        await #expect(processExitsWith: .signal(SIGSYS)) {
            typealias S = SeccompTestSupport
            guard let policy = try? S.policy("default"), let program = try? SeccompCompiler.compile(policy.seccomp),
                  S.install(program) else { exit(100) }
            _ = S.call(0x4000_0000 | S.NR.getpid)
            exit(1)
        }
    }

    @Test("strict policy: an escape-surface syscall ends the process")
    func strictKills() async {
        await #expect(processExitsWith: .signal(SIGSYS)) {
            typealias S = SeccompTestSupport
            guard let policy = try? S.policy("strict"), let program = try? SeccompCompiler.compile(policy.seccomp),
                  S.install(program) else { exit(100) }
            guard S.call(S.NR.getpid) == Int(getpid()), S.call(S.NR.socket, 2, 1) == -Int(EPERM) else { exit(2) }
            _ = S.call(S.NR.ptrace, 0)
            exit(1)
        }
    }

    @Test("a filter loaded from the cache behaves like the one compiled")
    func cachedFilter() async {
        await #expect(processExitsWith: .success) {
            typealias S = SeccompTestSupport
            guard let policy = try? S.policy("default"), let directory = try? S.temporaryDirectory(),
                  (try? SeccompCompiler.compileCached(policy.seccomp, directory: directory)) != nil,
                  let cached = try? SeccompCompiler.compileCached(policy.seccomp, directory: directory),
                  cached.outcome == .hit, S.install(cached.program) else { exit(100) }
            exit(S.call(S.NR.unshare, 0x1000_0000) == -Int(EPERM) && S.call(S.NR.getpid) == Int(getpid()) ? 0 : 1)
        }
    }
}
