import Foundation
import Testing
import TestSupport

@Suite("warden policy check")
struct PolicyCheckTests {
    static let policiesDir = WardenTool.packageRoot.appendingPathComponent("Policies")

    /// Writes `text` to a fresh temporary file and returns its path.
    func temporaryFile(_ text: String, name: String = "policy.json") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warden-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("the shipped policies check out and the summary says what they compile to", arguments: ["default", "strict"])
    func shipped(name: String) throws {
        let result = try WardenTool.run(["policy", "check", "Policies/\(name).json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("policy \"\(name)\""))
        #expect(result.stdout.contains("syscalls allowed") && result.stdout.contains("BPF instructions"))
        #expect(result.stdout.contains("/usr  bind /usr ro") && result.stdout.contains("/workspace  workspace rw"))
        #expect(result.stdout.contains("limits: memory"))
    }

    @Test("--json gives the same facts to machines, and --emit-bpf writes the program")
    func jsonAndBPF() throws {
        let bpf = try temporaryFile("", name: "default.bpf")
        let result = try WardenTool.run(["policy", "check", "Policies/default.json", "--json", "--emit-bpf", bpf])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let seccomp = try #require(object["seccomp"] as? [String: Any])
        let limits = try #require(object["limits"] as? [String: Any])
        let instructions = try #require(seccomp["bpfInstructions"] as? Int)
        #expect((seccomp["allowedSyscalls"] as? Int ?? 0) > 200)
        #expect(seccomp["badArchAction"] as? String == "kill_process")
        #expect(limits["memoryBytes"] as? Int == 512 << 20 && limits["pids"] as? Int == 128)
        #expect((object["mounts"] as? [Any])?.isEmpty == false)
        let size = try FileManager.default.attributesOfItem(atPath: bpf)[.size] as? Int
        #expect(size == instructions * 8)
    }

    /// (what, replaced text in default.json, replacement, text stderr must contain)
    static let badPolicies: [(String, String, String, String)] = [
        ("unknown key", "\"network\": \"none\",", "\"network\": \"none\", \"netwrok\": 1,", ": $.netwrok: unknown key \"netwrok\"; did you mean \"network\"?"),
        ("unknown syscall", "\"getpid\", \"getppid\"", "\"getpid\", \"getppidd\"", ": $.seccomp.allow.processes[15]: unknown syscall \"getppidd\""),
        ("impossible limit", "\"pids\": 128", "\"pids\": 0", ": $.limits.pids: 0 is out of range"),
        ("huge number", "\"openFiles\": 256", "\"openFiles\": 1e400", ": $.limits.openFiles: expected an integer"),
        ("relative bind", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"usr\", \"readOnly\": true}", ": $.filesystem.binds[0].source: \"usr\" must be an absolute path"),
        ("missing bind", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"/no/such/dir\", \"readOnly\": true}", "does not exist on this host"),
        ("syntax", "\"network\": \"none\",", "\"network\": \"none\",,", "expected a member name"),
    ]

    @Test("bad policies exit 2 with file:line:column and the JSON path", arguments: badPolicies)
    func badPolicy(_ testCase: (String, String, String, String)) throws {
        let (what, old, new, fragment) = testCase
        let original = try String(contentsOf: Self.policiesDir.appendingPathComponent("default.json"), encoding: .utf8)
        #expect(original.contains(old), "\(what): default.json no longer contains the text to replace")
        let file = try temporaryFile(original.replacingOccurrences(of: old, with: new))
        let result = try WardenTool.run(["policy", "check", file])
        #expect(result.status == 2, "\(what): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        let located = result.stderr.range(of: file + ":[0-9]+:[0-9]+: ", options: .regularExpression) != nil
        #expect(located && result.stderr.contains(fragment), "\(what): \(result.stderr)")
    }

    @Test("usage mistakes and unreadable files exit 2", arguments: [
        ["policy"], ["policy", "check"], ["policy", "verify", "x.json"], ["policy", "check", "a.json", "b.json"],
        ["policy", "check", "Policies/default.json", "--frobnicate"], ["policy", "check", "/no/such/policy.json"],
    ])
    func usage(arguments: [String]) throws {
        let result = try WardenTool.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }
}
