import Glibc

extension Cgroups.RunGroup {


    /// Moves process `pid` (all its threads) into every directory of the run (v1 only when
    /// `includingV2` is false, for a child already cloned into the cgroup2 group).
    ///
    /// This is the general path; a cgroup.procs write of another process takes the kernel's
    /// global threadgroup rwsem for writing, which waits for an RCU grace period when cold
    /// (5-8 ms measured here). `withCallingThreadInside` avoids that for v1 hierarchies, and
    /// CLONE_INTO_CGROUP (`openV2Directory`) for cgroup2.
    public func attach(pid: Int32, includingV2: Bool = true) throws(Cgroups.Error) {
        for path in includingV2 ? directories : v1.map(\.path) {
            let status = CgroupFile.write(path + "/cgroup.procs", String(pid))
            if status != 0 { throw Cgroups.Error(.attach, path: path + "/cgroup.procs", errno: status) }
        }
    }

    /// Opens each v1 directory's `tasks` file for writing, for `LaunchPlan.cgroupTaskFiles`: the
    /// launched child writes "0" to them itself, so it moves only its own thread and the kernel
    /// skips the global threadgroup lock (no pid write by the supervisor, no RCU grace period).
    /// The kernel checks the credentials of the opener, so the fds carry our right to move tasks.
    /// On failure nothing stays open.
    public func openV1TaskFiles() throws(Cgroups.Error) -> [Int32] {
        var fds: [Int32] = []
        for directory in v1 {
            let path = directory.path + "/tasks"
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 {
                let failure = errno
                for opened in fds { close(opened) }
                throw Cgroups.Error(.attach, path: path, errno: failure)
            }
            fds.append(fd)
        }
        return fds
    }

    /// Opens the run's cgroup2 directory for clone3's CLONE_INTO_CGROUP (-1 if there is none):
    /// the child is born in the group, with no cgroup.procs write (and no global lock) at all.
    public func openV2Directory() -> Int32 {
        guard let path = v2Directory else { return -1 }
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// Moves `pid` into the run's cgroup2 directory only (when the v1 part was inherited).
    public func attachV2(pid: Int32) throws(Cgroups.Error) {
        guard let path = v2Directory else { return }
        let status = CgroupFile.write(path + "/cgroup.procs", String(pid))
        if status != 0 { throw Cgroups.Error(.attach, path: path + "/cgroup.procs", errno: status) }
    }

    /// Runs `body` with the calling thread inside the run's v1 groups, then moves it back.
    ///
    /// A child cloned inside `body` starts in the run's v1 groups, so nothing has to move it later.
    /// Writing "0" to a v1 `tasks` file moves only the calling thread, and the kernel skips the
    /// global threadgroup lock for a thread moving itself (cgroup_procs_write_start): measured here
    /// 0.1-0.2 ms for three hierarchies there and back, against 5-8 ms for cgroup.procs writes.
    /// The cgroup2 part (hybrid or v2) still needs `attachV2` or CLONE_INTO_CGROUP.
    public func withCallingThreadInside<T>(_ body: () throws -> T) throws -> T {
        var entered: [Directory] = []
        defer {
            for directory in entered.reversed() { CgroupFile.write(directory.ownDirectory + "/tasks", "0") }
        }
        for directory in v1 {
            let status = CgroupFile.write(directory.path + "/tasks", "0")
            if status != 0 { throw Cgroups.Error(.attach, path: directory.path + "/tasks", errno: status) }
            entered.append(directory)
        }
        return try body()
    }

    /// Kills every process in the run and waits until the groups are empty (bounded by `timeoutMs`).
    ///
    /// cgroup2 has `cgroup.kill` (one write kills the whole tree, forks included) and
    /// `cgroup.events` to wait on. v1 has neither: we freeze the group if a freezer hierarchy is
    /// mounted (so a fork loop cannot outrun us), SIGKILL every member, thaw, and repeat until empty.
    public func kill(timeoutMs: Int = 5000) throws(Cgroups.Error) {
        if let v2 = v2Directory, CgroupFile.exists(v2 + "/cgroup.kill"), isPopulatedV2(v2) != false {
            let status = CgroupFile.write(v2 + "/cgroup.kill", "1")
            if status != 0 && status != ENOENT { throw Cgroups.Error(.kill, path: v2 + "/cgroup.kill", errno: status) }
            waitUnpopulatedV2(v2, timeoutMs: timeoutMs)
            if v2IsPure { return }
        }
        try killV1(timeoutMs: timeoutMs)
    }

    /// True if any process is still in the run.
    ///
    /// With a cgroup2 group its `populated` flag is the answer: every process of the run is born in
    /// it (CLONE_INTO_CGROUP) and in the v1 groups, and a task's css_set, which links it to all
    /// hierarchies at once, is dropped in one step at exit, so the v1 groups cannot hold a process
    /// the cgroup2 group has lost. The v1 files are read only when there is no readable cgroup2 flag.
    public var isPopulated: Bool {
        if let v2 = v2Directory, let populated = isPopulatedV2(v2) { return populated }
        return v1.contains { !CgroupFile.pids($0.path + "/cgroup.procs").isEmpty }
    }

    func killV1(timeoutMs: Int) throws(Cgroups.Error) {
        guard let members = v1.first(where: { $0.controllers.contains(.freezer) })
                ?? v1.first(where: { $0.controllers.contains(.pids) }) ?? v1.first else { return }
        let freezer = members.controllers.contains(.freezer) ? members.path + "/freezer.state" : nil
        let deadline = Deadline(milliseconds: timeoutMs)
        while true {
            let pids = CgroupFile.pids(members.path + "/cgroup.procs")
            if pids.isEmpty { return }
            if let freezer { CgroupFile.write(freezer, "FROZEN") }
            for pid in CgroupFile.pids(members.path + "/cgroup.procs") { Glibc.kill(pid, SIGKILL) }
            if let freezer { CgroupFile.write(freezer, "THAWED") }
            if deadline.expired { throw Cgroups.Error(.kill, path: members.path, errno: EBUSY) }
            deadline.pause()
        }
    }

    func isPopulatedV2(_ path: String) -> Bool? {
        CgroupFile.field("populated", in: CgroupFile.read(path + "/cgroup.events")).map { $0 != 0 }
    }

    /// Waits for `populated 0` using the POLLPRI notification the kernel raises on cgroup.events.
    func waitUnpopulatedV2(_ path: String, timeoutMs: Int) {
        let fd = open(path + "/cgroup.events", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let deadline = Deadline(milliseconds: timeoutMs)
        while isPopulatedV2(path) == true && !deadline.expired {
            var entry = pollfd(fd: fd, events: Int16(POLLPRI), revents: 0)
            _ = poll(&entry, 1, Int32(max(1, deadline.remainingMs)))
        }
    }

    /// Reads OOM kills, pids-limit hits, peak memory and CPU time.
    public func usage() -> Cgroups.Usage {
        var usage = Cgroups.Usage()
        func dir(_ c: Cgroups.Controller) -> String? { v1.first { $0.controllers.contains(c) }?.path }
        if v2IsPure, let v2 = v2Directory {
            usage.oomKills = Int(CgroupFile.field("oom_kill", in: CgroupFile.read(v2 + "/memory.events")) ?? 0)
            usage.pidsLimitHits = Int(CgroupFile.field("max", in: CgroupFile.read(v2 + "/pids.events")) ?? 0)
            usage.memoryPeakBytes = CgroupFile.number(v2 + "/memory.peak")
        } else {
            if let memory = dir(.memory) {
                usage.oomKills = Int(CgroupFile.field("oom_kill", in: CgroupFile.read(memory + "/memory.oom_control")) ?? 0)
                usage.memoryPeakBytes = CgroupFile.number(memory + "/memory.max_usage_in_bytes")
            }
            if let pids = dir(.pids) {
                usage.pidsLimitHits = Int(CgroupFile.field("max", in: CgroupFile.read(pids + "/pids.events")) ?? 0)
            }
        }
        if let cpuacct = dir(.cpuacct) {
            usage.cpuTimeNanos = CgroupFile.number(cpuacct + "/cpuacct.usage")
        } else if let v2 = v2Directory, let micros = CgroupFile.field("usage_usec", in: CgroupFile.read(v2 + "/cpu.stat")) {
            usage.cpuTimeNanos = micros * 1000
        }
        return usage
    }

    /// Kills what is left and removes every directory of the run.
    public func remove() throws(Cgroups.Error) {
        if isPopulated { try kill() }
        for path in directories.reversed() {
            let deadline = Deadline(milliseconds: 2000)
            // An exiting task leaves the group a moment after its parent sees it die.
            while rmdir(path) != 0 {
                let failure = errno
                if failure == ENOENT { break }
                if failure != EBUSY || deadline.expired { throw Cgroups.Error(.remove, path: path, errno: failure) }
                deadline.pause()
            }
            LiveRuns.remove(path)
        }
    }
}

/// A monotonic deadline for the bounded waits of teardown.
struct Deadline {
    let end: UInt64

    init(milliseconds: Int) { end = Deadline.nowNanos() + UInt64(max(0, milliseconds)) * 1_000_000 }

    static func nowNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    var expired: Bool { Deadline.nowNanos() >= end }
    var remainingMs: Int { expired ? 0 : Int((end - Deadline.nowNanos()) / 1_000_000) }

    /// Teardown only: a short pause between re-checks of state the kernel gives no event for (v1).
    func pause() {
        var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        nanosleep(&pause, nil)
    }
}
