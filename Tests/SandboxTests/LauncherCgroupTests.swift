// SPDX-License-Identifier: Apache-2.0
// Starting directly in a cgroup v2 directory (clone3 CLONE_INTO_CGROUP), and the cgroup namespace
// rooted there.
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher cgroups", .serialized)
struct LauncherCgroupTests {
    /// The cgroup2 mount of this host: /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid).
    static var cgroup2Root: String? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    @Test(.enabled(if: getuid() == 0 && cgroup2Root != nil, "needs root and a cgroup2 mount"))
    func startsInsideTheGivenCgroup() throws {
        let root = try #require(Self.cgroup2Root)
        let name = "warden-launcher-test-\(getpid())"
        let path = root + "/" + name
        try #require(mkdir(path, 0o755) == 0, "mkdir \(path): \(Errno.current)")
        defer { rmdir(path) }
        let directory = try FileDescriptor.open(path, .readOnly, options: [.directory])
        defer { try? directory.close() }
        var plan = LauncherFixture.shell("read line; cat /proc/self/cgroup")
        plan.cgroup = directory
        try LauncherFixture.inspectRunning(plan) { (process: SandboxedProcess) throws in
            let procs = try String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)
            #expect(procs.split(separator: "\n").contains("\(process.pid)"))
            let seen = try String(contentsOfFile: "/proc/\(process.pid)/cgroup", encoding: .utf8)
            #expect(seen.contains("0::/\(name)"))
        }
    }
}
