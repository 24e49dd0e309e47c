import Foundation
import Sandbox
import Specs
import Testing
import TestSupport

/// Runs real programs under the shipped policies' filters, with bubblewrap as the namespace runner
/// (it installs a BPF program given on an fd), to show the allowlists are wide enough for ordinary
/// agents: the hello agent's shell script and coreutils, and Python with threads and subprocesses.
/// Warden's own launcher is tested elsewhere; this checks the policy, not the launcher.
@Suite("Shipped policies run real workloads", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "needs bubblewrap"))
struct SeccompPolicyWorkloadTests {
    func run(policy name: String, _ command: String) throws -> WardenTool.Result {
        let program = try SeccompCompiler.compile(try SeccompTestSupport.policy(name).seccomp)
        let bpf = FileManager.default.temporaryDirectory.appendingPathComponent("warden-\(UUID().uuidString).bpf")
        try Data(program.bpf).write(to: bpf)
        defer { try? FileManager.default.removeItem(at: bpf) }
        let agent = SeccompTestSupport.root.appendingPathComponent("AgentSpecs/hello").path
        let bwrap = """
            exec bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr \
              --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
              --ro-bind /etc/ld.so.cache /etc/ld.so.cache --proc /proc --dev /dev --tmpfs /tmp \
              --ro-bind '\(agent)' /agent --dir /workspace --chdir /workspace --hostname warden \
              --uid 1000 --gid 1000 --clearenv --setenv PATH /usr/bin:/bin --setenv GREETING Hello \
              --seccomp 3 3<'\(bpf.path)' \(command)
            """
        return try WardenTool.runProcess("/bin/bash", ["-c", bwrap], timeout: 30)
    }

    @Test("the hello agent's script runs under both policies", arguments: ["default", "strict"])
    func hello(policy: String) throws {
        let result = try run(policy: policy, "/bin/sh /agent/hello.sh")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Hello!") && result.stdout.contains("network interfaces: lo\n"))
        #expect(result.stdout.contains("/usr: read-only"))
    }

    @Test("Python with threads, a subprocess and a TCP socket runs under the default policy",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    func python() throws {
        let script = "import socket, subprocess, threading; s = socket.socket(); t = threading.Thread(target=print, args=('thread',)); "
            + "t.start(); t.join(); print(subprocess.run(['echo', 'sub'], capture_output=True).stdout.decode().strip())"
        let result = try run(policy: "default", "/usr/bin/python3 -c \"\(script)\"")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "thread\nsub\n")
    }

    @Test("under the default policy a shell cannot create a user namespace")
    func noUserNamespace() throws {
        let result = try run(policy: "default", "/usr/bin/unshare --user /bin/true")
        #expect(result.status != 0)
        #expect(result.stderr.contains("Operation not permitted"), "\(result.stderr)")
    }
}
