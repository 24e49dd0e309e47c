import Glibc
import Testing
@testable import Sandbox

/// Real processes in real cgroups on this host: limits hold, events are reported, kill takes the
/// whole tree, and nothing is left behind.
@Suite("cgroup run groups with real processes", .serialized, .enabled(if: CgroupHost.usable, "needs a writable cgroupfs (root)"))
struct CgroupProcessTests {
    @Test("the pids limit stops a fork loop and is reported as a pids-limit hit")
    func pidsLimit() throws {
        let group = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(pids: 6), unified: false)
        let pid = try group.withCallingThreadInside {
            try CgroupHost.spawn(["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do /bin/sleep 30 & done; wait"])
        }
        let status = CgroupHost.wait(pid)
        #expect(status.exited, "the shell survives its failed forks and exits after killing nothing")
        let usage = group.usage()
        #expect(usage.pidsLimitHits > 0)
        try group.kill()
        #expect(!group.isPopulated)
        try group.remove()
        #expect(group.directories.allSatisfy { !CgroupFile.exists($0) })
    }

    @Test("the memory limit OOM-kills an allocator, reported as an OOM kill")
    func memoryLimit() throws {
        let group = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(memoryBytes: 32 << 20), unified: false)
        let pid = try group.withCallingThreadInside {
            try CgroupHost.spawn(["/usr/bin/python3", "-c", "b = b'x' * (256 << 20)"])
        }
        let status = CgroupHost.wait(pid)
        #expect(status.signal == SIGKILL)
        let usage = group.usage()
        #expect(usage.oomKills >= 1)
        #expect((usage.memoryPeakBytes ?? 0) > 0)
        try group.remove()
    }

    @Test("kill takes down a double-forked tree attached through cgroup.procs", arguments: [false, true])
    func killTree(unified: Bool) throws {
        let group = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(pids: 64), unified: unified)
        let script = "(/bin/sleep 300 &); (/bin/sh -c '/bin/sleep 300 &' &); echo started; /bin/sleep 300"
        let (pid, out) = try CgroupHost.spawnWithPipe(["/bin/sh", "-c", "read go; " + script])
        try group.attach(pid: pid)
        CgroupHost.writeLine(out.stdin, "go")
        #expect(CgroupHost.readLine(out.stdout) == "started")
        #expect(CgroupHost.memberCount(group) >= 2, "the orphans are still in the run's group")
        try group.kill()
        #expect(!group.isPopulated)
        #expect(CgroupHost.wait(pid).signal == SIGKILL)
        try group.remove()
        #expect(group.directories.allSatisfy { !CgroupFile.exists($0) })
        close(out.stdin); close(out.stdout)
    }

    @Test("CPU time is accounted to the run")
    func cpuTime() throws {
        let group = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(cpuCores: 0.5), unified: false)
        let pid = try group.withCallingThreadInside {
            try CgroupHost.spawn(["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
        }
        #expect(CgroupHost.wait(pid).exited)
        #expect((group.usage().cpuTimeNanos ?? 0) > 0)
        try group.remove()
    }

    @Test("orphaned runs of a dead supervisor are removed; live ones are kept")
    func orphans() throws {
        let live = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(pids: 4))
        let dead = try Cgroups.RunGroup.create(layout: CgroupHost.layout, limits: .init(pids: 4),
                                               name: "run-\(CgroupHost.deadPid())-1-1-dead")
        let removed = Cgroups.removeOrphanedRuns(layout: CgroupHost.layout)
        #expect(removed.contains(dead.name))
        #expect(!removed.contains(live.name))
        #expect(dead.directories.allSatisfy { !CgroupFile.exists($0) })
        #expect(live.directories.allSatisfy { CgroupFile.exists($0) })
        try live.remove()
    }

    @Test("the orphan scan skips a parent holding only this process's live runs, and lists it when anything else is there")
    func orphanScanSkipsOwnRunsOnly() throws {
        let hierarchy = try #require(CgroupHost.layout.v1Hierarchy(for: .pids) ?? CgroupHost.layout.v2)
        let parent = hierarchy.ownDirectory + "/warden-scan-test-\(UInt32.random(in: 0...UInt32.max))"
        try #require(mkdir(parent, 0o755) == 0)
        let own = parent + "/run-\(getpid())-\(ownStartTime)-1-own"
        let foreign = parent + "/run-\(try CgroupHost.deadPid())-1-1-dead"
        defer {
            for path in [foreign, own, parent] { rmdir(path) }
            LiveRuns.remove(own)
        }
        #expect(!Cgroups.mayHoldOthers(parent), "empty")
        #expect(mkdir(own, 0o755) == 0)
        #expect(Cgroups.mayHoldOthers(parent), "a run directory this process does not know as its own")
        LiveRuns.add([own])
        #expect(!Cgroups.mayHoldOthers(parent), "only our own live run")
        #expect(mkdir(foreign, 0o755) == 0)
        #expect(Cgroups.mayHoldOthers(parent), "our run and an orphan")
        #expect(rmdir(foreign) == 0 && rmdir(own) == 0)
        LiveRuns.remove(own)
        #expect(!Cgroups.mayHoldOthers(parent + "/missing"), "a parent that does not exist holds nothing")
    }
}
