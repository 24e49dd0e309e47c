// SPDX-License-Identifier: Apache-2.0
// The seccomp filter is installed last (setup's own mkdirat calls are not filtered) and its user-
// notification listener comes back to the supervisor.
import CSeccomp
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher seccomp", .serialized)
struct LauncherSeccompTests {
    /// ERRNO(EXDEV) for mkdir: the agent sees it; the launcher's own mkdirat calls before exec
    /// (mount targets) did not, so the filter went in after them.
    @Test func filterIsActiveAndInstalledAfterSetup() throws {
        var plan = LauncherFixture.shell("mkdir /tmp/x; grep Seccomp: /proc/self/status")
        let errnoEXDEV = 0x0005_0000 | UInt32(EXDEV)
        plan.seccomp = SeccompFilter(bpf: LauncherFixture.filter(LauncherFixture.mkdirSyscalls.map { ($0, errnoEXDEV) }))
        plan.mounts.entries.append(.directory(target: "/made/during/setup"))
        let output = try LauncherFixture.run(plan)
        #expect(output.stderr.contains("Invalid cross-device link"))
        #expect(output.stdout.contains("Seccomp:\t2"))
    }

    @Test func listenerComesBackAndAnswersNotifications() throws {
        var plan = LauncherFixture.shell("mkdir /tmp/y && echo made || echo refused")
        let notify: UInt32 = 0x7FC0_0000   // SECCOMP_RET_USER_NOTIF
        plan.seccomp = SeccompFilter(bpf: LauncherFixture.filter(LauncherFixture.mkdirSyscalls.map { ($0, notify) }),
                                     wantsListener: true)
        let out = try FileDescriptor.pipe()
        plan.standardOutput = out.writeEnd
        let process = try Launcher.launch(plan)
        try out.writeEnd.close()
        let listener = try #require(process.seccompListener)
        // Answer the one notification: deny with EPERM.
        var request: UnsafeMutablePointer<seccomp_notif>?
        var response: UnsafeMutablePointer<seccomp_notif_resp>?
        #expect(seccomp_notify_alloc(&request, &response) == 0)
        defer { seccomp_notify_free(request, response) }
        memset(request!, 0, MemoryLayout<seccomp_notif>.size)
        #expect(seccomp_notify_receive(listener.rawValue, request) == 0)
        #expect(LauncherFixture.mkdirSyscalls.contains(UInt32(bitPattern: request!.pointee.data.nr)))
        response!.pointee.id = request!.pointee.id
        response!.pointee.error = -EPERM
        response!.pointee.val = 0
        response!.pointee.flags = 0
        #expect(seccomp_notify_respond(listener.rawValue, response) == 0)
        let printed = try out.readEnd.readAll(limit: 100)
        try out.readEnd.close()
        #expect(String(decoding: printed, as: UTF8.self) == "refused\n")
        #expect(try process.wait() == .exited(0))
        process.closeDescriptors()
    }
}
