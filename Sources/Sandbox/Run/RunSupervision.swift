import Glibc
import HostOS

/// The supervision loop of one run: one poll(2) over the process's pidfd and its two output pipes,
/// with the wall-clock deadline as poll's timeout. No busy waiting, no sleeps.
struct RunSupervision {
    let process: SandboxedProcess
    let group: Cgroups.RunGroup?
    let stdout: OutputPump
    let stderr: OutputPump
    let timeoutNanos: UInt64?
    /// `Settings.stop`: readable or hung up means kill now.
    var stop: Int32? = nil

    /// How the process ended, as waitid reported it.
    struct Ending {
        var exitCode: Int32?
        var signal: Int32?
        var timedOut = false
    }

    /// Pumps output until the process exits or the deadline passes, kills the tree, reaps.
    func run(startedAt start: UInt64) -> Ending {
        var ending = Ending()
        let deadline = timeoutNanos.map { start &+ $0 }
        var exited = false
        var stopped = false
        // A fixed buffer rather than an Array<pollfd>, whose generic metadata a fresh `warden exec`
        // would have to instantiate on the way to its first poll.
        let fds = UnsafeMutableBufferPointer<pollfd>.allocate(capacity: 4)
        defer { fds.deallocate() }
        while !exited {
            var count = 0
            func add(_ fd: Int32) {
                fds[count] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                count += 1
            }
            add(process.pidfd.descriptor.rawValue)
            if stdout.isOpen { add(stdout.source) }
            if stderr.isOpen { add(stderr.source) }
            if let stop, !stopped { add(stop) }
            let wait = ending.timedOut ? -1 : Self.millisecondsUntil(deadline)
            let ready = poll(fds.baseAddress, nfds_t(count), wait)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 && !ending.timedOut {
                // The deadline passed: kill the pid-namespace init (the kernel then kills every
                // process of the namespace) and the cgroup, then keep looping until the reap.
                ending.timedOut = true
                killTree()
                continue
            }
            for entry in fds[1..<count] where entry.revents != 0 {
                if entry.fd == stop, stop != nil {
                    stopped = true
                    killTree()
                } else if entry.fd == stdout.source { stdout.pump() } else { stderr.pump() }
            }
            exited = fds[0].revents != 0
        }
        reap(into: &ending)
        drainAfterExit()
        return ending
    }

    /// SIGKILL through the pidfd to the namespace's init, then to the rest of its cgroup.
    func killTree() {
        try? process.kill(SIGKILL)
        try? group?.kill(timeoutMs: 2000)
    }

    func reap(into ending: inout Ending) {
        switch try? process.wait() {
        case .exited(let code): ending.exitCode = code
        case .signaled(let signal, _): ending.signal = signal
        case nil: ending.signal = SIGKILL  // cannot happen for our own unreaped child
        }
    }

    /// When init dies, the kernel has killed the whole pid namespace; anything still holding the
    /// pipes (a process outside the namespace, if the plan shared it) is killed via the cgroup,
    /// then the pipes are read to their end.
    func drainAfterExit() {
        if let group, group.isPopulated { try? group.kill(timeoutMs: 2000) }
        func drain(_ pump: OutputPump) {
            while pump.isOpen {
                var entry = pollfd(fd: pump.source, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, 1000) <= 0 { pump.finish(); break }
                pump.pump()
            }
        }
        drain(stdout)
        drain(stderr)
    }

    static func millisecondsUntil(_ deadline: UInt64?) -> Int32 {
        guard let deadline else { return -1 }
        let now = Deadline.nowNanos()
        if now >= deadline { return 0 }
        // Round up so we never wake a hair early and spin.
        return Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
    }
}
