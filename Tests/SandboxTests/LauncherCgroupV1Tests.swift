// SPDX-License-Identifier: Apache-2.0
// Joining cgroup v1 groups from inside the child (LaunchPlan.cgroupTaskFiles): the child writes "0"
// to `tasks` fds the supervisor opened, before its cgroup namespace and exec; and cloning on the
// calling thread (LaunchPlan.cloneOnCallingThread) behaves like cloning on the launcher's thread.
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher cgroup v1 self-attach", .serialized)
struct LauncherCgroupV1Tests {
    /// The mount point of the v1 hierarchy carrying `controller`, if any.
    static func v1Mount(_ controller: String) -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 3, fields[2] == "cgroup", fields[3].split(separator: ",").contains(Substring(controller)) {
                return String(fields[1])
            }
        }
        return nil
    }

    static var canRun: Bool { getuid() == 0 && v1Mount("pids") != nil }

    @Test(.enabled(if: canRun, "needs root and a cgroup v1 pids hierarchy"), arguments: [false, true])
    func childJoinsTheGroupBeforeItsCgroupNamespace(callingThread: Bool) throws {
        let mount = try #require(Self.v1Mount("pids"))
        let name = "warden-v1-attach-test-\(getpid())-\(callingThread)"
        let path = mount + "/" + name
        try #require(mkdir(path, 0o755) == 0, "mkdir \(path): \(Errno.current)")
        defer { rmdir(path) }
        let tasks = try FileDescriptor.open(path + "/tasks", .writeOnly)
        defer { try? tasks.close() }
        var plan = LauncherFixture.shell("read line; cat /proc/self/cgroup")
        plan.cgroupTaskFiles = [tasks]
        plan.cloneOnCallingThread = callingThread
        let output = Pipe()
        plan.standardOutput = FileDescriptor(rawValue: output.fileHandleForWriting.fileDescriptor)
        try LauncherFixture.inspectRunning(plan) { (process: SandboxedProcess) throws in
            let procs = try String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)
            #expect(procs.split(separator: "\n").contains("\(process.pid)"))
            let seen = try String(contentsOfFile: "/proc/\(process.pid)/cgroup", encoding: .utf8)
            #expect(seen.split(separator: "\n").contains { $0.hasSuffix(":pids:/\(name)") })
        }
        try output.fileHandleForWriting.close()
        let inside = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // The cgroup namespace was rooted at the group: the attach came before it, hence before exec.
        #expect(inside.split(separator: "\n").contains { $0.hasSuffix(":pids:/") })
        #expect(!inside.contains(name))
    }

    @Test(.enabled(if: getuid() == 0, "needs root"), arguments: [false, true])
    func failedAttachAbortsTheLaunchAndLeavesNothing(callingThread: Bool) throws {
        // A descriptor not open for writing: the child's write fails with EBADF.
        let notWritable = try FileDescriptor.open("/dev/null", .readOnly)
        defer { try? notWritable.close() }
        var plan = LaunchPlan(executable: "/bin/true")
        plan.cgroupTaskFiles = [notWritable]
        plan.cloneOnCallingThread = callingThread
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.step == .cgroupAttach)
        #expect(error.code == .setupFailed)
        #expect(error.errno == .badFileDescriptor)
        let pid = try #require(error.pid)
        #expect(LauncherFixture.isGone(pid))
    }
}
