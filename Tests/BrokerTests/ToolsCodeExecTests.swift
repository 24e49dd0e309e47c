import Foundation
import Testing
@testable import Broker
import Sandbox
import Specs

/// code.exec runs real Python and sh in a fresh sandbox under Policies/strict.json; the escape
/// suite's kind of probes, run as generated code, stay contained.
@Suite(.serialized) struct ToolsCodeExecTests {
    static func tool() throws -> CodeExecTool {
        CodeExecTool(policy: try Policy.load(path: PolicyDirectory.locate() + "/strict.json"))
    }

    static func run(_ language: String, _ code: String, rule: ToolRule = ToolRule(name: "code.exec"),
                    timeout: Double? = nil) throws -> ToolResult {
        var arguments: JSONObject = ["language": .string(language), "code": .string(code)]
        if let timeout { arguments["timeoutSeconds"] = .number(JSONNumber(timeout)!) }
        return try tool().call(arguments, rule: rule)
    }

    static func field(_ result: ToolResult, _ key: String) -> JSONValue? { result.structured?[key] }

    @Test func pythonAndShellRunAndReport() throws {
        let python = try Self.run("python", "import sys; print(6 * 7); print('warn', file=sys.stderr)")
        #expect(!python.isError && Self.field(python, "stdout") == .string("42\n") && Self.field(python, "stderr") == .string("warn\n"),
                "\(python.text)")
        #expect(Self.field(python, "exitCode") == .number(JSONNumber(0)))
        let shell = try Self.run("sh", "echo $((2 + 3)); id -u; exit 3")
        #expect(shell.isError && Self.field(shell, "exitCode") == .number(JSONNumber(3)), "\(shell.text)")
        #expect(Self.field(shell, "stdout") == .string("5\n65534\n"))
    }

    /// A busy supervisor holds many descriptors (connections, pipes to MCP servers); strict.json's
    /// 64 open files must not stop a launch (the launcher arranges fds before applying rlimits).
    @Test func aBusySupervisorCanStillLaunch() throws {
        var held: [Int32] = []
        for _ in 0..<200 { held.append(open("/dev/null", O_RDONLY | O_CLOEXEC)) }
        defer { for fd in held where fd >= 0 { close(fd) } }
        let result = try Self.run("sh", "echo ok")
        #expect(!result.isError && Self.field(result, "stdout") == .string("ok\n"), "\(result.text)")
    }

    @Test func timeAndOutputLimitsHold() throws {
        let spin = try Self.run("python", "while True: pass", timeout: 0.5)
        #expect(Self.field(spin, "timedOut") == .bool(true) && spin.isError, "\(spin.text)")
        let chatty = try Self.run("sh", "yes | head -c 1000000", rule: ToolRule(name: "code.exec", maxBytes: 1024))
        #expect(Self.field(chatty, "outputTruncated") == .bool(true))
        guard case .string(let out)? = Self.field(chatty, "stdout") else { Issue.record("no stdout"); return }
        #expect(out.utf8.count == 1024)
    }

    @Test func memoryIsCappedByTheRuleAndNeverAboveStrict() throws {
        let tool = try Self.tool()
        let loose = tool.limits([:], rule: ToolRule(name: "code.exec", timeoutMilliseconds: 10_000_000, memoryBytes: 1 << 40))
        #expect(loose.memory == tool.policy.limits.memoryBytes && loose.timeoutMilliseconds == tool.policy.limits.wallMilliseconds)
        let hog = try Self.run("python", "x = bytearray(200 * 1024 * 1024); print('allocated')",
                               rule: ToolRule(name: "code.exec", memoryBytes: 32 << 20))
        #expect(hog.isError && Self.field(hog, "stdout") != .string("allocated\n"), "\(hog.text)")
        #expect(Self.field(hog, "oomKilled") == .bool(true) || hog.text.contains("MemoryError"), "\(hog.text)")
    }

    /// (probe name, code, what shows it was contained)
    static let probes: [(String, String, String)] = [
        ("read /etc/shadow", "print(open('/etc/shadow').read())", "FileNotFoundError"),
        ("host passwd via /proc/1/root", "print(open('/proc/1/root/etc/passwd').read())", "Error"),
        ("connect out", "import socket; s = socket.socket(); s.settimeout(2); s.connect(('1.1.1.1', 80)); print('CONNECTED')", "PermissionError"),
        ("write /usr", "open('/usr/bin/pwned', 'w').write('x')", "Error"),
        ("list host root", "import os; print(sorted(os.listdir('/')))", "workspace"),
        ("unshare", "import ctypes; ctypes.CDLL(None).unshare(0x10000000); print('UNSHARED')", "signal"),
        ("ptrace", "import ctypes; ctypes.CDLL(None).ptrace(16, 1, 0, 0); print('TRACED')", "signal"),
    ]

    @Test(arguments: probes) func escapeProbesAreContained(_ name: String, _ code: String, _ evidence: String) throws {
        let result = try Self.run("python", code)
        #expect(!result.text.contains("CONNECTED") && !result.text.contains("UNSHARED") && !result.text.contains("TRACED"), "\(name): \(result.text)")
        #expect(!result.text.contains("root:x:0:0") && !result.text.contains("root:$"), "\(name): \(result.text)")
        #expect(result.text.contains(evidence), "\(name): \(result.text)")
        if name == "list host root" {
            #expect(!result.text.contains("'root'") && !result.text.contains("'home'"), "\(result.text)")
        }
    }
}
