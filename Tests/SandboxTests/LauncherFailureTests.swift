// SPDX-License-Identifier: Apache-2.0
// Setup and exec failures: a clear LaunchError naming the step and errno, and nothing left behind.
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher failures", .serialized)
struct LauncherFailureTests {
    /// The process that failed was killed and reaped: no /proc entry, not a child of ours any more.
    func expectNothingLeft(_ error: LaunchError) {
        guard let pid = error.pid else { return }
        #expect(LauncherFixture.isGone(pid))
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG) == -1 && errno == ECHILD)
    }

    @Test func execOfMissingBinary() throws {
        let plan = LaunchPlan(executable: "/usr/bin/no-such-program")
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.step == .execve)
        #expect(error.code == .execFailed)
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description == "sandbox setup failed at execve (/usr/bin/no-such-program): No such file or directory (ENOENT)")
        #expect(error.pid != nil)
        expectNothingLeft(error)
    }

    @Test func execOfNonExecutable() throws {
        let plan = LaunchPlan(executable: "/usr/share/dict/../../lib/os-release")
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.step == .execve)
        #expect(error.errno == .permissionDenied)
    }

    @Test func bindOfMissingSourceIsRejectedBeforeAnythingStarts() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.mounts.bindReadOnly("/nonexistent/warden-source", at: "/data")
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.code == .invalidPlan)
        #expect(error.pid == nil)
        #expect(error.description.contains("/nonexistent/warden-source"))
        #expect(error.errno == .noSuchFileOrDirectory)
    }

    /// A failure inside the child (a mount target under a read-only bind) comes back as step +
    /// errno, and the child is gone.
    @Test func failureInsideTheChildLeavesNoProcess() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.mounts.tmpfs(at: "/usr/warden-not-here", sizeBytes: 1 << 20)
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.step == .mountTarget)
        #expect(error.errno == .readOnlyFileSystem)
        #expect(error.code == .setupFailed)
        #expect(error.detail.contains("tmpfs /usr/warden-not-here"))
        expectNothingLeft(error)
    }

    @Test func beforeExecHookSeesTheWaitingChildAndItsFailureAbortsTheLaunch() throws {
        struct AttachFailed: Error {}
        var sawMap = ""
        let error = try #require(throws: LaunchError.self) {
            try Launcher.launch(LaunchPlan(executable: "/bin/true")) { pid in
                sawMap = (try? String(contentsOfFile: "/proc/\(pid)/uid_map", encoding: .utf8)) ?? ""
                throw AttachFailed()
            }
        }
        #expect(sawMap.split(whereSeparator: \.isWhitespace) == ["65534", "65534", "1"])
        #expect(error.code == .hookFailed)
        #expect(error.detail == "AttachFailed()")
        expectNothingLeft(error)
    }

    static func invalidVariant(_ name: String) -> LaunchPlan {
        var plan = LaunchPlan(executable: "/bin/true")
        switch name {
        case "empty argv": plan.arguments = []
        case "empty executable": plan.executable = ""
        case "relative target": plan.mounts.tmpfs(at: "tmp2", sizeBytes: 1)
        case "dot-dot target": plan.mounts.tmpfs(at: "/a/../etc", sizeBytes: 1)
        case "root target": plan.mounts.tmpfs(at: "/", sizeBytes: 1)
        case "relative bind source": plan.mounts.bindReadOnly("usr", at: "/x")
        case "bad env name": plan.environment["A=B"] = "1"
        case "relative cwd": plan.workingDirectory = "work"
        case "seccomp length": plan.seccomp = SeccompFilter(bpf: [1, 2, 3])
        case "soft above hard": plan.resourceLimits = [ResourceLimit(.openFiles, soft: 10, hard: 5)]
        case "stdio number": plan.descriptors = [DescriptorMapping(parent: .standardError, child: 1)]
        case "duplicate fd":
            plan.descriptors = [DescriptorMapping(parent: .standardError, child: 5), DescriptorMapping(parent: .standardOutput, child: 5)]
        case "too many mounts": plan.mounts.entries += (0..<70).map { .directory(target: "/d\($0)") }
        case "host root": plan.identity = SandboxIdentity(insideUID: 0, insideGID: 0, hostUID: 0, hostGID: 0)
        default: Issue.record("unknown variant \(name)")
        }
        return plan
    }

    @Test(arguments: ["empty argv", "empty executable", "relative target", "dot-dot target", "root target",
                      "relative bind source", "bad env name", "relative cwd", "seccomp length", "soft above hard",
                      "stdio number", "duplicate fd", "too many mounts", "host root"])
    func invalidPlansAreRejected(_ name: String) throws {
        let plan = Self.invalidVariant(name)
        let error = try #require(throws: LaunchError.self, "\(name)") { try Launcher.launch(plan) }
        #expect(error.code == .invalidPlan, "\(name): \(error)")
        #expect(error.pid == nil)
    }

    /// If the supervisor dies, the sandboxed process dies with it (PR_SET_PDEATHSIG, armed on the
    /// launcher's long-lived thread so that a pool thread's exit does not trigger it).
    @Test func sandboxDiesWithTheSupervisor() async throws {
        let result = try #require(await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            var plan = LaunchPlan(executable: "/bin/sleep", arguments: ["sleep", "600"])
            plan.parentDeathSignal = SIGKILL
            guard let process = try? Launcher.launch(plan) else { exit(1) }
            print("pid \(process.pid)")
            exit(0)   // flushes stdout; the launcher's thread dies with the process
        })
        let text = String(decoding: result.standardOutputContent, as: UTF8.self)
        let pid = try #require(text.split(separator: "\n").last.flatMap { Int32($0.dropFirst(4)) })
        var gone = false
        for _ in 0..<500 where !gone {   // the kill is asynchronous: poll, bounded, no timing asserted
            gone = LauncherFixture.isGone(pid)
            if !gone { usleep(10_000) }
        }
        #expect(gone, "sandboxed pid \(pid) outlived its supervisor")
    }
}

@Suite("Launcher early failures", .serialized)
struct LauncherEarlyFailureTests {
    /// The child runs its network steps before the parent releases it. When one fails, the child
    /// is already dead when the parent releases it: the launch reports the child's own step and
    /// errno (not a broken pipe, and no SIGPIPE), and nothing is left behind.
    @Test func childThatDiedBeforeReleaseReportsItsOwnStep() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.loopbackListenPorts = [8933, 8933]
        var hookPid: Int32 = 0
        let error = try #require(throws: LaunchError.self) {
            try Launcher.launch(plan) { pid in
                hookPid = pid
                // Let the child reach its failure first, so the release finds it dead.
                for _ in 0..<500 where !LauncherFixture.isGone(pid) { usleep(2_000) }
            }
        }
        #expect(error.step == .listen)
        #expect(error.errno == .addressInUse)
        #expect(error.detail == "127.0.0.1:8933")
        #expect(error.pid == hookPid)
        #expect(LauncherFixture.isGone(hookPid))
    }

    /// Without a hook the spawner thread releases the child right after mapping its ids; an early
    /// failure is still the one reported, whichever side gets there first.
    @Test func earlyFailureWithoutHook() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.loopbackListenPorts = [8934, 8934]
        let error = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        #expect(error.step == .listen)
        #expect(error.errno == .addressInUse)
        #expect(LauncherFixture.isGone(try #require(error.pid)))
    }
}

/// `Launcher.launchWithoutWaiting`: the failure comes from `settle` once the process has ended.
@Suite("Launcher without waiting for exec")
struct LauncherWithoutWaitingTests {
    @Test func execSucceedsAndSettlesClean() throws {
        var plan = LaunchPlan(executable: "/bin/sh", arguments: ["sh", "-c", "exit 7"])
        plan.traceSteps = true
        let (process, pending) = try Launcher.launchWithoutWaiting(plan)
        #expect(try process.wait() == .exited(7))
        #expect(pending.settle() == nil)
        #expect(pending.settle() == nil, "idempotent")
        #expect(pending.stepTimes.map(\.step).contains(.execve))
        process.closeDescriptors()
    }

    @Test func aFailedStepComesBackFromSettleAsLaunchWouldThrowIt() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.mounts.tmpfs(at: "/usr/warden-not-here", sizeBytes: 1 << 20)
        let waited = try #require(throws: LaunchError.self) { try Launcher.launch(plan) }
        let (process, pending) = try Launcher.launchWithoutWaiting(plan)
        #expect(try process.wait() == .exited(127))
        let failure = try #require(pending.settle())
        #expect(failure.step == waited.step && failure.errno == waited.errno && failure.detail == waited.detail)
        #expect(failure.code == .setupFailed)
        process.closeDescriptors()
        let missing = try Launcher.launchWithoutWaiting(LaunchPlan(executable: "/usr/bin/no-such-program"))
        _ = try missing.0.wait()
        #expect(missing.1.settle()?.code == .execFailed)
        missing.0.closeDescriptors()
    }

    @Test func plansThatPassDescriptorsBackMustWait() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.loopbackListenPorts = [8931]
        let error = try #require(throws: LaunchError.self) { try Launcher.launchWithoutWaiting(plan) }
        #expect(error.code == .invalidPlan)
        #expect(error.pid == nil)
    }
}
