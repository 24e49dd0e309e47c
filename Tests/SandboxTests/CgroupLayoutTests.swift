import Glibc
import Testing
@testable import Sandbox

/// Layout detection from real-world mountinfo / cgroup files (this host's, a systemd v2 host's, ...).
@Suite("cgroup layout detection")
struct CgroupLayoutTests {
    static let hybridMounts = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """
    static let hybridMembership = """
        9:name=systemd:/
        8:pids:/
        6:freezer:/
        4:memory:/process_api/ee19
        2:cpuacct:/
        1:cpu:/
        0::/
        """
    static let v2Mounts = """
        25 1 0:22 / / rw - ext4 /dev/sda1 rw
        30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """
    static let v1Mounts = """
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        """

    @Test("the hybrid layout of the development host maps each controller to its own group directory")
    func hybrid() throws {
        var layout = Cgroups.Layout.parse(mountinfo: Self.hybridMounts, cgroup: Self.hybridMembership)
        layout.mode = layout.chooseMode()
        #expect(layout.mode == .hybrid)
        #expect(layout.v1Hierarchy(for: .memory)?.ownDirectory == "/sys/fs/cgroup/memory/process_api/ee19")
        #expect(layout.v1Hierarchy(for: .pids)?.ownDirectory == "/sys/fs/cgroup/pids")
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup/unified")
        #expect(layout.v1.count == 5, "name=systemd carries no controller we use")
    }

    @Test("a systemd v2 host nests runs under the service's own group")
    func pureV2() {
        var layout = Cgroups.Layout.parse(mountinfo: Self.v2Mounts, cgroup: "0::/system.slice/warden.service\n")
        layout.v2Controllers = [.memory, .pids, .cpu]
        layout.mode = layout.chooseMode()
        #expect(layout.mode == .v2)
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup/system.slice/warden.service")
    }

    @Test("co-mounted v1 controllers share one hierarchy", arguments: [Cgroups.Controller.cpu, .cpuacct])
    func comounted(controller: Cgroups.Controller) {
        var layout = Cgroups.Layout.parse(mountinfo: Self.v1Mounts, cgroup: "4:cpu,cpuacct:/jobs/a\n3:memory:/\n2:pids:/\n")
        layout.mode = layout.chooseMode()
        #expect(layout.mode == .v1)
        #expect(layout.v1Hierarchy(for: controller)?.ownDirectory == "/sys/fs/cgroup/cpu,cpuacct/jobs/a")
    }

    @Test("a v2 mount without delegated controllers and no v1 gives mode none")
    func none() {
        var layout = Cgroups.Layout.parse(mountinfo: Self.v2Mounts, cgroup: "0::/user.slice\n")
        layout.mode = layout.chooseMode()
        #expect(layout.mode == .none)
        var empty = Cgroups.Layout.parse(mountinfo: "", cgroup: "")
        empty.mode = empty.chooseMode()
        #expect(empty.mode == .none)
    }

    @Test("only the filesystem type decides: a tmpfs named cgroup, a cgroup2 source on another type and torn lines are skipped")
    func onlyCgroupTypes() {
        let mounts = """
            50 25 0:40 / /mnt/cgroup rw - tmpfs cgroup rw,size=1024k
            51 25 0:41 / /mnt/other rw - ext4 cgroup2 rw
            52 25 0:42 / /mnt/short - cgroup
            53 25 0:43 / /sys/fs/cgroup/pids rw,relatime shared:9 master:3 - cgroup cgroup rw,pids
            54 25
            """
        let layout = Cgroups.Layout.parse(mountinfo: mounts, cgroup: "8:pids:/jobs\n")
        #expect(layout.v2 == nil)
        #expect(layout.v1.map(\.mountPoint) == ["/sys/fs/cgroup/pids"])
        #expect(layout.v1.first?.ownDirectory == "/sys/fs/cgroup/pids/jobs")
    }

    @Test("a cgroup namespace root is stripped from the own path, octal escapes are decoded")
    func namespaceRoot() {
        let mounts = "41 31 0:38 /sandbox /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n"
        let layout = Cgroups.Layout.parse(mountinfo: mounts, cgroup: "0::/sandbox/inner\n")
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup x/inner")
    }

    @Test("none mode reports every requested limit as unenforced")
    func unenforcedInNone() throws {
        let layout = Cgroups.Layout(mode: .none, v1: [], v2: nil, v2Controllers: [], note: "no cgroupfs")
        let group = try Cgroups.RunGroup.create(layout: layout, limits: .init(memoryBytes: 1 << 20, pids: 4, cpuCores: 1))
        #expect(group.unenforced == ["memory: no cgroupfs", "pids: no cgroupfs", "cpu: no cgroupfs"])
        #expect(group.directories.isEmpty)
    }

    @Test("a hierarchy we cannot write is reported, so detection falls back to mode none")
    func unwritable() {
        let hierarchy = Cgroups.Layout.Hierarchy(mountPoint: "/no/such", ownDirectory: "/no/such/group", controllers: [.memory])
        let layout = Cgroups.Layout(mode: .v1, v1: [hierarchy], v2: nil, v2Controllers: [], note: nil)
        #expect(layout.unwritableDirectory() == "/no/such/group")
        let host = Cgroups.Layout.detect()
        if getuid() == 0 && host.mode != .none { #expect(host.unwritableDirectory() == nil) }
    }
}
