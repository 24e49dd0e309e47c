// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import HostOS
import Testing

@Suite("ProcessDescriptor")
struct ProcessDescriptorTests {
    /// Starts `arguments` with posix_spawn and returns its pid.
    func spawn(_ arguments: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, arguments[0], nil, nil, &argv, environ)
        try #require(result == 0, "posix_spawn: \(Errno(rawValue: result))")
        return pid
    }

    @Test(arguments: [(["/bin/true"], TerminationStatus.exited(0)), (["/bin/sh", "-c", "exit 3"], .exited(3)),
                      (["/bin/sh", "-c", "kill -KILL $$"], .signaled(SIGKILL, coreDumped: false))])
    func waitReportsHowTheProcessEnded(_ arguments: [String], _ expected: TerminationStatus) throws {
        let process = try ProcessDescriptor.open(pid: try spawn(arguments))
        #expect(try process.wait() == expected)
        try process.close()
    }

    @Test func signalNonBlockingWaitAndReap() throws {
        let process = try ProcessDescriptor.open(pid: try spawn(["/bin/sleep", "60"]))
        #expect(try process.wait(nonBlocking: true) == nil)
        try process.send(signal: SIGKILL)
        #expect(try process.wait() == .signaled(SIGKILL, coreDumped: false))
        #expect(TerminationStatus.signaled(SIGKILL, coreDumped: false).shellStatus == 137)
        // Reaped: the pidfd stays valid, but there is nothing left to signal or wait for.
        #expect(throws: Errno.noSuchProcess) { try process.send(signal: SIGKILL) }
        #expect(throws: Errno.noChildProcess) { _ = try process.wait() }
        try process.close()
    }
}
