// SPDX-License-Identifier: Apache-2.0
// The sandboxed process as the host sees it and as it sees itself: ids, namespaces, capabilities,
// network, hostname, environment, limits.
import Foundation
import Glibc
import HostOS
import Sandbox
import Testing

@Suite("Launcher isolation", .serialized)
struct LauncherIsolationTests {
    /// The agent is an unprivileged uid on the host too, even though the supervisor runs as root.
    @Test func identityInsideAndOnTheHost() throws {
        try LauncherFixture.inspectRunning(LauncherFixture.shell("read line")) { (process: SandboxedProcess) throws in
            #expect(try LauncherFixture.status(process.pid, "Uid") == "65534\t65534\t65534\t65534")
            #expect(try LauncherFixture.status(process.pid, "Gid") == "65534\t65534\t65534\t65534")
            #expect(try LauncherFixture.status(process.pid, "Groups") == "")
        }
        let output = try LauncherFixture.run(LauncherFixture.shell("id -u; id -g; id -G"))
        #expect(output.stdout == "65534\n65534\n65534\n")
        #expect(output.status == .exited(0))
    }

    /// Another host id can be chosen; the inside id may differ from it.
    @Test func configurableHostIdentity() throws {
        var plan = LauncherFixture.shell("read line")
        plan.identity = SandboxIdentity(insideUID: 1000, insideGID: 1000, hostUID: 60001, hostGID: 60002)
        try LauncherFixture.inspectRunning(plan) { (process: SandboxedProcess) throws in
            #expect(try LauncherFixture.status(process.pid, "Uid") == "60001\t60001\t60001\t60001")
            #expect(try LauncherFixture.status(process.pid, "Gid") == "60002\t60002\t60002\t60002")
            let map = try String(contentsOfFile: "/proc/\(process.pid)/uid_map", encoding: .utf8)
            #expect(map.split(whereSeparator: \.isWhitespace) == ["1000", "60001", "1"])
        }
    }

    @Test(arguments: ["user", "pid", "mnt", "net", "ipc", "uts", "cgroup"])
    func namespaceDiffersFromTheHost(_ namespace: String) throws {
        try LauncherFixture.inspectRunning(LauncherFixture.shell("read line")) { (process: SandboxedProcess) throws in
            let mine = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(namespace)")
            let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/ns/\(namespace)")
            #expect(mine != theirs)
        }
    }

    @Test func allCapabilitiesDroppedAndNoNewPrivileges() throws {
        try LauncherFixture.inspectRunning(LauncherFixture.shell("read line")) { (process: SandboxedProcess) throws in
            for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                #expect(try LauncherFixture.status(process.pid, set) == "0000000000000000", "\(set)")
            }
            #expect(try LauncherFixture.status(process.pid, "NoNewPrivs") == "1")
        }
    }

    /// The agent is pid 1 of its own pid namespace and sees only its own processes.
    @Test func ownPidNamespace() throws {
        // The shell expands the glob itself, before forking anything: only pid 1 exists.
        let output = try LauncherFixture.run(LauncherFixture.shell("echo $$ /proc/[0-9]*"))
        #expect(output.stdout == "1 /proc/1\n")
    }

    @Test func onlyLoopbackAndItIsUp() throws {
        let output = try LauncherFixture.run(LauncherFixture.shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"))
        #expect(output.stdout == "lo\n")
        // A listener created inside the namespace by the launcher, reached from inside.
        var plan = LaunchPlan(executable: "/usr/bin/python3", arguments: [
            "python3", "-c", "import socket; s = socket.create_connection(('127.0.0.1', 8931)); s.sendall(b'hello broker')",
        ])
        plan.loopbackListenPorts = [8931]
        let process = try Launcher.launch(plan)
        defer { process.closeDescriptors() }
        let listener = try #require(process.listeners.first)
        let connection = accept(listener.rawValue, nil, nil)
        try #require(connection >= 0)
        let received = try FileDescriptor(rawValue: connection).readAll(limit: 100)
        try FileDescriptor(rawValue: connection).close()
        #expect(String(decoding: received, as: UTF8.self) == "hello broker")
        #expect(try process.wait() == .exited(0))
    }

    @Test func hostnameIsSet() throws {
        var plan = LauncherFixture.shell("cat /proc/sys/kernel/hostname")
        plan.hostname = "agent-7"
        #expect(try LauncherFixture.run(plan).stdout == "agent-7\n")
    }

    /// The environment is exactly the plan's: nothing of the supervisor's leaks in.
    @Test func environmentIsExactlyThePlans() throws {
        setenv("WARDEN_SUPERVISOR_SECRET", "leak", 1)
        defer { unsetenv("WARDEN_SUPERVISOR_SECRET") }
        let plan = LaunchPlan(executable: "/usr/bin/env", environment: ["A": "1", "PATH": "/usr/bin", "Z": "last"])
        let output = try LauncherFixture.run(plan)
        #expect(output.stdout == "A=1\nPATH=/usr/bin\nZ=last\n")
    }

    @Test func bareExecutableNameSearchesThePlansPath() throws {
        let plan = LaunchPlan(executable: "printf", arguments: ["printf", "found"], environment: ["PATH": "/nonexistent:/usr/bin"])
        #expect(try LauncherFixture.run(plan).stdout == "found")
    }

    @Test func workingDirectoryAndResourceLimits() throws {
        var plan = LauncherFixture.shell("pwd; ulimit -n; ulimit -c")
        plan.mounts.tmpfs(at: "/work", sizeBytes: 1 << 20)
        plan.workingDirectory = "/work"
        plan.resourceLimits = [ResourceLimit(.openFiles, soft: 123, hard: 200), ResourceLimit(.coreSize, soft: 0)]
        #expect(try LauncherFixture.run(plan).stdout == "/work\n123\n0\n")
    }

    /// Step tracing records the checklist in order, ending with execve; without it nothing is recorded.
    @Test func stepTracingFollowsTheChecklist() throws {
        var plan = LaunchPlan(executable: "/bin/true")
        plan.traceSteps = true
        let traced = try Launcher.launch(plan)
        #expect(try traced.wait() == .exited(0))
        traced.closeDescriptors()
        let order = traced.stepTimes.map(\.step)
        #expect(order.last == .execve)
        let pivot = try #require(order.firstIndex(of: .pivotRoot)), mount = try #require(order.firstIndex(of: .mountTarget))
        let seccomp = try #require(order.firstIndex(of: .seccomp))
        #expect(pivot < mount && mount < seccomp)
        plan.traceSteps = false
        let untraced = try Launcher.launch(plan)
        #expect(try untraced.wait() == .exited(0))
        untraced.closeDescriptors()
        #expect(untraced.stepTimes.isEmpty)
    }

    /// The agent has no controlling terminal and leads its own session (no TIOCSTI into the host's tty).
    @Test func newSessionWithoutTerminal() throws {
        let output = try LauncherFixture.run(LauncherFixture.shell("cat /proc/self/stat | cut -d' ' -f6,7; tty"))
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.first == "1 0")   // session id 1 (itself, pid 1), tty_nr 0
        #expect(lines.last == "not a tty")
    }
}

@Suite("Launcher prepared network namespaces", .serialized)
struct LauncherNetworkPoolTests {
    /// A prepared namespace is as isolated as a fresh one (only lo, up, own namespace, listeners
    /// work), is never shared between two agents, and the agent cannot reconfigure it.
    @Test(.enabled(if: getuid() == 0, "creating namespaces ahead needs CAP_SYS_ADMIN"))
    func preparedNamespacesIsolateLikeFreshOnes() throws {
        try Launcher.prepareNetworkNamespaces(depth: 2)
        defer { try? Launcher.prepareNetworkNamespaces(depth: 0) }
        for _ in 0..<200 where Launcher.preparedNetworkNamespaces.ready < 2 { usleep(10_000) }
        #expect(Launcher.preparedNetworkNamespaces.ready == 2)
        var seen: Set<String> = []
        for _ in 0..<2 {
            try LauncherFixture.inspectRunning(LauncherFixture.shell("read line")) { (process: SandboxedProcess) throws in
                seen.insert(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/ns/net"))
            }
        }
        #expect(seen.count == 2)
        #expect(!seen.contains(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")))
        var plan = LaunchPlan(executable: "/usr/bin/python3", arguments: ["python3", "-c", """
            import socket, fcntl, struct
            print(open('/proc/net/dev').read().split('\\n')[2].split(':')[0].strip())
            s = socket.create_connection(('127.0.0.1', 8932)); s.sendall(b'ok')
            try:
                fcntl.ioctl(socket.socket(), 0x8914, struct.pack('16sH14x', b'lo', 0))  # SIOCSIFFLAGS: lo down
                print('reconfigured')
            except PermissionError:
                print('refused')
            """])
        plan.loopbackListenPorts = [8932]
        let out = try FileDescriptor.pipe()
        plan.standardOutput = out.writeEnd
        let process = try Launcher.launch(plan)
        try out.writeEnd.close()
        let connection = accept(try #require(process.listeners.first).rawValue, nil, nil)
        try #require(connection >= 0)
        #expect(try FileDescriptor(rawValue: connection).readAll(limit: 10) == Array("ok".utf8))
        try FileDescriptor(rawValue: connection).close()
        let printed = String(decoding: try out.readEnd.readAll(), as: UTF8.self)
        try out.readEnd.close()
        #expect(printed == "lo\nrefused\n")
        #expect(try process.wait() == .exited(0))
        process.closeDescriptors()
    }

    /// The one-shot CLI's path: one namespace prepared in the background, taken by a launch that
    /// clones on the calling thread (which enters it for clone3 only and returns to its own).
    /// Launches of suites running in parallel take prepared namespaces too, so an attempt whose
    /// namespace was taken first (the child then brings up its own loopback) is repeated.
    @Test(.enabled(if: getuid() == 0, "creating namespaces ahead needs CAP_SYS_ADMIN"))
    func oneShotNamespaceTakenFromTheCallingThread() throws {
        defer { try? Launcher.prepareNetworkNamespaces(depth: 0) }
        let link = { (path: String) throws -> String in try FileManager.default.destinationOfSymbolicLink(atPath: path) }
        let ownBefore = try link("/proc/thread-self/ns/net")
        var tookPrepared = false
        for _ in 0..<20 where !tookPrepared {
            Launcher.prepareOneNetworkNamespace()
            for _ in 0..<200 where Launcher.preparedNetworkNamespaces.ready < 1 { usleep(10_000) }
            var plan = LauncherFixture.shell("read line; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
            plan.cloneOnCallingThread = true
            plan.traceSteps = true
            let out = try FileDescriptor.pipe()
            plan.standardOutput = out.writeEnd
            var steps: [String] = []
            try LauncherFixture.inspectRunning(plan) { (process: SandboxedProcess) throws in
                let agent = try link("/proc/\(process.pid)/ns/net")
                #expect(agent != ownBefore)
                #expect(try link("/proc/thread-self/ns/net") == ownBefore)
                steps = process.stepTimes.map(\.step.description)
            }
            try out.writeEnd.close()
            #expect(String(decoding: try out.readEnd.readAll(), as: UTF8.self) == "lo\n")
            try out.readEnd.close()
            tookPrepared = steps.contains("execve") && !steps.contains("loopback up")
        }
        #expect(tookPrepared, "no launch took the prepared namespace in 20 attempts")
    }

    /// A launch that comes right after `prepareOneNetworkNamespace`, before the namespace is done,
    /// waits for it instead of making a second one in the child (the fast `warden exec` case).
    /// Repeated when a launch of a suite running in parallel took that namespace first.
    @Test(.enabled(if: getuid() == 0, "creating namespaces ahead needs CAP_SYS_ADMIN"))
    func launchWaitsForTheNamespaceBeingPrepared() throws {
        defer { try? Launcher.prepareNetworkNamespaces(depth: 0) }
        try Launcher.prepareNetworkNamespaces(depth: 0)
        var attempts: [[String]] = []
        for _ in 0..<20 {
            for _ in 0..<16 where Launcher.preparedNetworkNamespaces.ready > 0 {   // leftovers of other tests
                _ = try LauncherFixture.run(LauncherFixture.shell("true"))
            }
            Launcher.prepareOneNetworkNamespace()
            var plan = LauncherFixture.shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
            plan.cloneOnCallingThread = true
            plan.traceSteps = true
            let out = try FileDescriptor.pipe()
            plan.standardOutput = out.writeEnd
            let process = try Launcher.launch(plan)
            try out.writeEnd.close()
            #expect(String(decoding: try out.readEnd.readAll(), as: UTF8.self) == "lo\n")
            try out.readEnd.close()
            #expect(try process.wait() == .exited(0))
            process.closeDescriptors()
            let steps = process.stepTimes.map(\.step.description)
            attempts.append(steps)
            if steps.contains("execve") && !steps.contains("loopback up") { break }
        }
        let last = try #require(attempts.last)
        #expect(last.contains("execve") && !last.contains("loopback up"), "the child made its own namespace every time: \(last)")
    }
}
