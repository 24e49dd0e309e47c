import Foundation
import Testing
@testable import Sandbox
@testable import Specs

@Suite("Seccomp compiler")
struct SeccompCompilerTests {
    @Test("the shipped policies compile, counting every syscall some rule allows", arguments: ["default", "strict"])
    func shipped(name: String) throws {
        let policy = try SeccompTestSupport.policy(name)
        let program = try SeccompCompiler.compile(policy.seccomp)
        let allowed = Set(policy.seccomp.allowedNames)
        let ruleAllowed = Set(policy.seccomp.rules.filter { $0.action == .allow }.map(\.syscall.name)).subtracting(allowed)
        #expect(program.allowedSyscallCount == allowed.count + ruleAllowed.count)
        #expect(program.bpf.count == program.instructionCount * 8 && program.instructionCount > 50)
        #expect(program.installFlags == 0 && program.auditedSyscalls.isEmpty)
        // The first instructions check the architecture and send x32 numbers (bit 30) to the bad-arch action.
        let words = stride(from: 0, to: program.bpf.count, by: 8).map { i in constant(program.bpf, at: i) }
        #expect(words.prefix(6).contains(0xC000_003E), "AUDIT_ARCH_X86_64 check")
        #expect(words.prefix(6).contains(0x4000_0000), "x32 syscall-bit check")
    }

    /// The `k` field of the instruction at byte offset `i` (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k).
    func constant(_ bpf: [UInt8], at i: Int) -> UInt32 {
        var k: UInt32 = 0
        for b in 0..<4 { k |= UInt32(bpf[i + 4 + b]) << UInt32(8 * b) }
        return k
    }

    @Test("unknown and 32-bit-only syscall names are policy errors at their position", arguments: [
        ("\"getpid\"", "\"getpidd\"", "did you mean \"getpid\""),
        ("\"getpid\"", "\"chown32\"", "does not exist on x86_64"),
    ])
    func unknownNames(old: String, new: String, fragment: String) throws {
        let policy = try Policy.parse(Fixture.policy.replacingOccurrences(of: old, with: new), file: "names.json")
        #expect {
            _ = try SeccompCompiler.compile(policy.seccomp)
        } throws: { error in
            guard let error = error as? SeccompError, let spec = error.specError else { return false }
            let ok = error.code == .policy && spec.code == .unknownSyscall && spec.path == "$.seccomp.allow.processes[1]"
                && spec.line == 6 && spec.message.contains(fragment) && error.description.hasPrefix("names.json:6:43: ")
            if !ok { Issue.record("got \(error)") }
            return ok
        }
    }

    @Test("audited syscalls compile to user notification and ask for a listener; logDenials sets the log flag")
    func auditAndLog() throws {
        let text = Fixture.policy.replacingOccurrences(
            of: "\"deny\":", with: "\"logDenials\": true, \"audit\": [{\"errno\": \"EPERM\", \"syscalls\": [\"ptrace\", \"mount\"]}], \"deny\":")
        let program = try SeccompCompiler.compile(try Policy.parse(text).seccomp)
        #expect(program.auditedSyscalls == [.init(name: "ptrace", number: 101, errno: 1), .init(name: "mount", number: 165, errno: 1)])
        #expect(program.needsListener && program.installFlags == SeccompProgram.flagNewListener | SeccompProgram.flagLog)
    }

    @Test("exception complements match exactly the values not excluded")
    func complement() {
        var rng = SystemRandomNumberGenerator()
        let masks: [UInt64] = [0xFFFF_FFFF, 0xF, 0xFF00, UInt64.max]
        for _ in 0..<200 {
            let mask = masks.randomElement(using: &rng) ?? 0xF
            let excluded = (0..<Int.random(in: 1...4, using: &rng)).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) & mask }
            let patterns = ResolvedProfile.complement(of: excluded, under: mask)
            #expect(patterns.count <= excluded.count * mask.nonzeroBitCount)
            for probe in 0..<200 {
                var x = UInt64.random(in: 0...UInt64.max, using: &rng)
                // Half the probes sit on or one bit away from an excluded value, where mistakes would show.
                if probe % 2 == 0, let near = excluded.randomElement(using: &rng) {
                    let flip: UInt64 = probe % 4 == 0 ? 0 : 1 << UInt64.random(in: 0..<64, using: &rng)
                    x = (x & ~mask) | ((near ^ flip) & mask)
                }
                let matches = patterns.filter { x & $0.mask == $0.value }.count
                #expect(matches == (excluded.contains(x & mask) ? 0 : 1), "x=\(x) mask=\(mask) excluded=\(excluded)")
            }
        }
    }

    enum Fixture {
        static let policy = """
        {
          "name": "t", "filesystem": {}, "network": "none",
          "limits": {"memory": "64MiB", "pids": 8, "cpus": 1, "wallSeconds": 5, "openFiles": 64, "fileSize": "1MiB"},
          "seccomp": {
            "allow": {"files": ["read", "write"],
                      "processes": ["exit_group", "getpid"]},
            "deny": [{"errno": "ENOSYS", "syscalls": ["clone3"]}]
          }
        }
        """
    }
}
