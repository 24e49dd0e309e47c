// SPDX-License-Identifier: Apache-2.0
// The sandbox's root, mounts and descriptors.
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher filesystem", .serialized)
struct LauncherFilesystemTests {
    @Test func readOnlyBindCannotBeWrittenAndReadWriteBindCan() throws {
        let directory = try LauncherFixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "host data\n".write(toFile: directory + "/existing", atomically: false, encoding: .utf8)
        var plan = LauncherFixture.shell("""
            cat /data/existing; echo x > /data/new 2>/dev/null && echo wrote-ro || echo ro-refused
            echo agent > /rw/made && echo wrote-rw; grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6
            """)
        plan.mounts.bindReadOnly(directory, at: "/data")
        plan.mounts.bindReadWrite(directory, at: "/rw")
        let output = try LauncherFixture.run(plan)
        #expect(output.stdout.hasPrefix("host data\nro-refused\nwrote-rw\nro,nosuid,nodev"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/new"))
        // The file the agent made belongs to the unprivileged host uid.
        var info = stat()
        #expect(stat(directory + "/made", &info) == 0)
        #expect(info.st_uid == 65534)
    }

    @Test func rootIsReadOnlyTmpfsWithHostSystemAndFreshProcAndMinimalDev() throws {
        let output = try LauncherFixture.run(LauncherFixture.shell("""
            touch /planted 2>/dev/null && echo root-writable || echo root-ro
            ls /; ls /dev; echo dev > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c
            readlink /bin; ls /proc/1/root/ >/dev/null && echo proc-own; echo tmp > /tmp/t && cat /tmp/t
            """))
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "root-ro")
        #expect(output.stdout.contains("bin\ndev\nlib\nlib64\nproc\nsbin\ntmp\nusr\n"))
        #expect(output.stdout.contains("fd\nfull\nnull\nrandom\nshm\nstderr\nstdin\nstdout\nurandom\nzero\n"))
        #expect(lines.contains("null-ok"))
        #expect(lines.contains("4"))
        #expect(lines.contains("usr/bin"))
        #expect(lines.contains("tmp"))
        #expect(output.status == .exited(0), "\(output.stderr)")
    }

    /// Nothing of the host's filesystem is reachable beyond the plan's mounts.
    @Test func hostPathsAreAbsent() throws {
        let output = try LauncherFixture.run(LauncherFixture.shell("ls /etc /root /home 2>&1 | wc -l; cat /proc/1/mountinfo | wc -l"))
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.first == "3")               // three "No such file or directory" lines
        #expect(Int(lines.last ?? "") ?? 99 < 16) // only the plan's mounts, not the host's
    }

    /// A descriptor the supervisor opened without close-on-exec does not reach the agent;
    /// a listed one arrives at the number the plan names.
    @Test func onlyListedDescriptorsAreInherited() throws {
        let file = open("/dev/null", O_RDONLY)   // no O_CLOEXEC on purpose
        try #require(file >= 0)
        let leaked = dup2(file, 250)                // a number nothing else in the sandbox uses
        close(file)
        try #require(leaked == 250)
        defer { close(leaked) }
        let channel = try FileDescriptor.pipe()
        var plan = LauncherFixture.shell("ls /proc/self/fd | tr '\\n' ' '; test -e /proc/self/fd/\(leaked) && echo leaked; echo hi >&7")
        plan.descriptors = [DescriptorMapping(parent: channel.writeEnd, child: 7)]
        let output = try LauncherFixture.run(plan)
        try channel.writeEnd.close()
        let fromChild = try channel.readEnd.readAll(limit: 100)
        try channel.readEnd.close()
        #expect(output.stdout == "0 1 2 3 7 ")   // 3 is ls's own directory handle
        #expect(String(decoding: fromChild, as: UTF8.self) == "hi\n")
    }

    /// Descriptors may be permuted: a source that is also another entry's target is copied first.
    @Test func descriptorPermutation() throws {
        let a = try FileDescriptor.pipe(), b = try FileDescriptor.pipe()
        // bash: dash only redirects single-digit descriptors.
        var plan = LaunchPlan(executable: "/usr/bin/bash", arguments: [
            "bash", "-c", "echo A >&\(b.writeEnd.rawValue); echo B >&\(a.writeEnd.rawValue)",
        ])
        plan.descriptors = [DescriptorMapping(parent: a.writeEnd, child: b.writeEnd.rawValue),
                            DescriptorMapping(parent: b.writeEnd, child: a.writeEnd.rawValue)]
        _ = try LauncherFixture.run(plan)
        try a.writeEnd.close()
        try b.writeEnd.close()
        #expect(String(decoding: try a.readEnd.readAll(), as: UTF8.self) == "A\n")
        #expect(String(decoding: try b.readEnd.readAll(), as: UTF8.self) == "B\n")
        try a.readEnd.close()
        try b.readEnd.close()
    }

    @Test func standardPlanFollowsTheHostLayout() {
        let plan = MountPlan.standard()
        #expect(plan.rootReadOnly)
        #expect(plan.entries.contains(.bind(source: "/usr", target: "/usr", readOnly: true)))
        // Debian 12 has a merged /usr: /bin is a symlink there, so it is one here.
        #expect(plan.entries.contains(.symlink(target: "/bin", pointingTo: "usr/bin")))
        #expect(plan.entries.contains(.proc(target: "/proc")))
        #expect(plan.entries.contains(.dev(target: "/dev")))
    }
}
