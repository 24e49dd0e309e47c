import Foundation
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

    /// A fake host for the mountinfo-free detection: path -> file-system kind.
    static func probe(_ kinds: [String: Cgroups.Layout.MountKind]) -> Cgroups.Layout.MountProbe {
        Cgroups.Layout.MountProbe { kinds[$0] }
    }

    @Test("without mountinfo: the hybrid host's hierarchies are found at their conventional mount points")
    func conventionalHybrid() throws {
        let layout = try #require(Cgroups.Layout.conventional(cgroup: Self.hybridMembership, probe: Self.probe([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/unified": .cgroup2,
            "/sys/fs/cgroup/memory": .cgroup1, "/sys/fs/cgroup/memory/process_api/ee19": .cgroup1,
            "/sys/fs/cgroup/pids": .cgroup1, "/sys/fs/cgroup/freezer": .cgroup1,
            "/sys/fs/cgroup/cpu": .cgroup1, "/sys/fs/cgroup/cpuacct": .cgroup1,
        ])))
        var parsed = Cgroups.Layout.parse(mountinfo: Self.hybridMounts, cgroup: Self.hybridMembership)
        parsed.mode = .none
        #expect(layout == parsed)
    }

    @Test("without mountinfo: a pure v2 host and co-mounted v1 controllers")
    func conventionalV2AndComounted() throws {
        let v2 = try #require(Cgroups.Layout.conventional(cgroup: "0::/system.slice/warden.service\n", probe: Self.probe([
            "/sys/fs/cgroup": .cgroup2, "/sys/fs/cgroup/system.slice/warden.service": .cgroup2,
        ])))
        #expect(v2.v2?.ownDirectory == "/sys/fs/cgroup/system.slice/warden.service")
        #expect(v2.v1.isEmpty)
        let v1 = try #require(Cgroups.Layout.conventional(cgroup: "4:cpu,cpuacct:/jobs/a\n3:memory:/\n2:pids:/\n", probe: Self.probe([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/cpu,cpuacct": .cgroup1, "/sys/fs/cgroup/cpu,cpuacct/jobs/a": .cgroup1,
            "/sys/fs/cgroup/memory": .cgroup1, "/sys/fs/cgroup/pids": .cgroup1,
        ])))
        #expect(v1 == Cgroups.Layout.parse(mountinfo: Self.v1Mounts, cgroup: "4:cpu,cpuacct:/jobs/a\n3:memory:/\n2:pids:/\n"))
    }

    @Test("without mountinfo: anything unconventional is left to the mountinfo parse", arguments: [
        // a mounted subtree (a container without a cgroup namespace): the own path is not below the mount
        ("0::/kubepods/pod1/c1\n", ["/sys/fs/cgroup": .cgroup2] as [String: Cgroups.Layout.MountKind]),
        // a v1 hierarchy mounted somewhere else
        ("3:memory:/\n", ["/sys/fs/cgroup": .other, "/sys/fs/cgroup/memory": .other]),
        // cgroup2 listed but no unified mount where hybrid hosts put it
        ("3:memory:/\n0::/\n", ["/sys/fs/cgroup": .other, "/sys/fs/cgroup/memory": .cgroup1]),
        // no /sys/fs/cgroup at all, or a v1 hierarchy mounted on it
        ("0::/\n", [:]),
        ("3:memory:/\n", ["/sys/fs/cgroup": .cgroup1]),
        // a pure v2 mount but v1 hierarchies listed too
        ("1:name=systemd:/\n0::/\n", ["/sys/fs/cgroup": .cgroup2]),
        // a torn membership file
        ("3:memory\n", ["/sys/fs/cgroup": .other, "/sys/fs/cgroup/memory": .cgroup1]),
    ])
    func conventionalFallsBack(cgroup: String, kinds: [String: Cgroups.Layout.MountKind]) {
        #expect(Cgroups.Layout.conventional(cgroup: cgroup, probe: Self.probe(kinds)) == nil)
    }

    @Test("on this host, the fast detection and the mountinfo parse agree")
    func conventionalMatchesMountinfoHere() {
        let slow = Cgroups.Layout.detectFromMountinfo()
        #expect(Cgroups.Layout.detect() == slow)
        // Where every hierarchy sits at its conventional place (this development host, CI), the
        // fast path must have been the one taken.
        let conventionalHere = (slow.v2.map { ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].contains($0.mountPoint) } ?? true)
            && slow.v1.allSatisfy { $0.mountPoint.hasPrefix("/sys/fs/cgroup/") }
        let membership = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        if conventionalHere && slow.mode != .none {
            #expect(Cgroups.Layout.conventional(cgroup: membership, probe: .host) != nil)
        }
    }
}
