import Foundation
import Testing
@testable import Specs

@Suite("Policy decoding")
struct PolicyTests {
    @Test("the minimal fixture decodes to the expected model")
    func minimal() throws {
        let policy = try Policy.parse(PolicyFixtures.minimalPolicy, file: "mini.json")
        #expect(policy.name == "mini" && policy.network == .none)
        #expect(policy.limits == ResourceLimits(memoryBytes: 256 << 20, pids: 64, cpuMillis: 1000, wallMilliseconds: 60_000,
                                                openFiles: 128, fileSizeBytes: 16 << 20))
        #expect(policy.filesystem.binds == [.init(source: "/usr", target: "/usr", readOnly: true, optional: false)])
        #expect(policy.filesystem.tmpfs == [.init(path: "/tmp", sizeBytes: 8 << 20, mode: 0o1777)])
        #expect(policy.seccomp.defaultAction == .errno(1) && policy.seccomp.badArchAction == .killProcess)
        #expect(policy.seccomp.allowedNames == ["read", "write", "ioctl", "exit_group", "getpid"])
        #expect(policy.seccomp.deny.first?.action == .errno(38))
        #expect(policy.seccomp.rules.count == 2)
        #expect(policy.seccomp.rules[1].conditions == [.init(argument: 1, op: .maskedEqual, value: 0x5412, mask: 0xFFFF_FFFF)])
    }

    @Test("the shipped policies load", arguments: ["Policies/default.json", "Policies/strict.json"])
    func shipped(path: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Policy.load(path: root.appendingPathComponent(path).path)
        #expect(policy.seccomp.allowedNames.count > 100)
        #expect(policy.seccomp.badArchAction == .killProcess)
        #expect(policy.filesystem.workspace?.path == "/workspace")
    }

    @Test("the canonical seccomp text ignores formatting and member order")
    func canonical() throws {
        let a = try Policy.parse(PolicyFixtures.minimalPolicy)
        let reordered = PolicyFixtures.policy(replacing: "\"defaultAction\": {\"errno\": \"EPERM\"},\n    \"badArchAction\": \"kill_process\",",
                                              with: "\"badArchAction\":\"kill_process\",    \"defaultAction\": {\"errno\":\"EPERM\"},")
        let b = try Policy.parse(reordered)
        #expect(a.seccomp.canonicalJSON == b.seccomp.canonicalJSON)
        let changed = try Policy.parse(PolicyFixtures.policy(replacing: "\"getpid\"", with: "\"getppid\""))
        #expect(changed.seccomp.canonicalJSON != a.seccomp.canonicalJSON)
    }

    /// (what is wrong, replaced text, replacement, expected code, expected JSON path, text the message must contain)
    static let badInputs: [(String, String, String, SpecError.Code, String, String)] = [
        ("unknown top-level key", "\"network\": \"none\"", "\"network\": \"none\", \"netwrok\": 1", .schema, "$.netwrok", "did you mean \"network\""),
        ("missing key", "\"network\": \"none\",", "", .schema, "$", "missing required key \"network\""),
        ("wrong type", "\"pids\": 64", "\"pids\": \"64\"", .schema, "$.limits.pids", "expected a number"),
        ("zero pids", "\"pids\": 64", "\"pids\": 0", .invalidValue, "$.limits.pids", "out of range"),
        ("negative memory", "\"memory\": \"256MiB\"", "\"memory\": -1", .invalidValue, "$.limits.memory", "whole number"),
        ("huge memory", "\"memory\": \"256MiB\"", "\"memory\": 99999999999999999999999", .invalidValue, "$.limits.memory", "whole number"),
        ("memory overflow", "\"memory\": \"256MiB\"", "\"memory\": \"17179869184TiB\"", .invalidValue, "$.limits.memory", "overflows"),
        ("memory unit", "\"memory\": \"256MiB\"", "\"memory\": \"256 MB\"", .invalidValue, "$.limits.memory", "KiB, MiB"),
        ("memory too small", "\"memory\": \"256MiB\"", "\"memory\": 4096", .invalidValue, "$.limits.memory", "out of range"),
        ("fractional pids", "\"pids\": 64", "\"pids\": 1.5", .invalidValue, "$.limits.pids", "integer"),
        ("zero cpus", "\"cpus\": 1", "\"cpus\": 0", .invalidValue, "$.limits.cpus", "out of range"),
        ("cpus precision", "\"cpus\": 1", "\"cpus\": 0.0001", .invalidValue, "$.limits.cpus", "digits after"),
        ("cpus exponent", "\"cpus\": 1", "\"cpus\": 1e2", .invalidValue, "$.limits.cpus", "decimal"),
        ("wall too long", "\"wallSeconds\": 60", "\"wallSeconds\": 99999999999", .invalidValue, "$.limits.wallSeconds", "out of range"),
        ("open files zero", "\"openFiles\": 128", "\"openFiles\": 0", .invalidValue, "$.limits.openFiles", "out of range"),
        ("missing limit", ", \"fileSize\": \"16MiB\"", "", .schema, "$.limits", "fileSize"),
        ("relative bind", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"usr\"}", .invalidValue, "$.filesystem.binds[0].source", "absolute"),
        ("dot-dot bind", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"/usr/../etc\"}", .invalidValue, "$.filesystem.binds[0].source", "'..'"),
        ("missing bind source", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"/nonexistent-warden-path\"}", .invalidValue, "$.filesystem.binds[0].source", "does not exist"),
        ("reserved target", "{\"source\": \"/usr\", \"readOnly\": true}", "{\"source\": \"/usr\", \"target\": \"/proc/x\"}", .invalidValue, "$.filesystem.binds[0].target", "launcher"),
        ("duplicate target", "{\"path\": \"/tmp\", \"size\": \"8MiB\"}", "{\"path\": \"/usr\", \"size\": \"8MiB\"}", .invalidValue, "$.filesystem.tmpfs[0].path", "already used"),
        ("relative workspace", "{\"path\": \"/workspace\"}", "{\"path\": \"workspace\"}", .invalidValue, "$.filesystem.workspace.path", "absolute"),
        ("tmpfs zero", "\"size\": \"8MiB\"", "\"size\": 0", .invalidValue, "$.filesystem.tmpfs[0].size", "out of range"),
        ("tmpfs mode", "\"size\": \"8MiB\"", "\"size\": \"8MiB\", \"mode\": \"999\"", .invalidValue, "$.filesystem.tmpfs[0].mode", "octal"),
        ("readOnly type", "\"readOnly\": true", "\"readOnly\": \"yes\"", .schema, "$.filesystem.binds[0].readOnly", "true or false"),
        ("network mode", "\"network\": \"none\"", "\"network\": \"host\"", .invalidValue, "$.network", "unknown network mode"),
        ("bad name", "\"name\": \"mini\"", "\"name\": \"../x\"", .invalidValue, "$.name", "not a valid name"),
        ("unknown action", "\"badArchAction\": \"kill_process\"", "\"badArchAction\": \"kill_proces\"", .invalidValue, "$.seccomp.badArchAction", "did you mean \"kill_process\""),
        ("allowing foreign ABIs", "\"badArchAction\": \"kill_process\"", "\"badArchAction\": \"allow\"", .invalidValue, "$.seccomp.badArchAction", "bypass"),
        ("errno typo", "{\"errno\": \"EPERM\"}", "{\"errno\": \"EPREM\"}", .invalidValue, "$.seccomp.defaultAction.errno", "did you mean \"EPERM\""),
        ("errno range", "{\"errno\": \"EPERM\"}", "{\"errno\": 70000}", .invalidValue, "$.seccomp.defaultAction.errno", "out of range"),
        ("duplicate syscall", "\"exit_group\", \"getpid\"", "\"exit_group\", \"read\"", .invalidValue, "$.seccomp.allow.processes[1]", "already listed at $.seccomp.allow.files[0]"),
        ("allowed and denied", "\"syscalls\": [\"clone3\"]", "\"syscalls\": [\"write\"]", .invalidValue, "$.seccomp.deny[0].syscalls[0]", "already listed"),
        ("empty denial", "\"syscalls\": [\"clone3\"]", "\"syscalls\": []", .invalidValue, "$.seccomp.deny[0]", "empty"),
        ("errno and action", "{\"errno\": \"ENOSYS\", \"syscalls\"", "{\"errno\": \"ENOSYS\", \"action\": \"trap\", \"syscalls\"", .schema, "$.seccomp.deny[0]", "exactly one"),
        ("syscall name syntax", "\"getpid\"", "\"Get-Pid\"", .unknownSyscall, "$.seccomp.allow.processes[1]", "not a syscall name"),
        ("rule on a denied syscall", "{\"syscall\": \"socket\"", "{\"syscall\": \"clone3\"", .invalidValue, "$.seccomp.rules[0].syscall", "never apply"),
        ("unknown constant", "\"value\": \"AF_UNIX\"", "\"value\": \"AF_UNIKS\"", .invalidValue, "$.seccomp.rules[0].when[0].value", "did you mean \"AF_UNIX\""),
        ("argument index", "{\"arg\": 0, \"op\": \"==\"", "{\"arg\": 6, \"op\": \"==\"", .invalidValue, "$.seccomp.rules[0].when[0].arg", "out of range"),
        ("unknown operator", "\"op\": \"==\"", "\"op\": \"=~\"", .invalidValue, "$.seccomp.rules[0].when[0].op", "unknown operator"),
        ("masked without mask", "\"mask\": \"UINT32_MAX\", ", "", .schema, "$.seccomp.rules[1].when[0]", "needs a \"mask\""),
        ("value outside mask", "\"mask\": \"UINT32_MAX\"", "\"mask\": \"0xff\"", .invalidValue, "$.seccomp.rules[1].when[0].value", "outside the mask"),
        ("allow rule on allowed syscall", "\"ioctl\", \"errno\": \"EPERM\"", "\"ioctl\", \"action\": \"allow\"", .invalidValue, "$.seccomp.rules[1]", "adds nothing"),
        ("empty when", "\"when\": [{\"arg\": 0, \"op\": \"==\", \"value\": \"AF_UNIX\"}]", "\"when\": []", .invalidValue, "$.seccomp.rules[0]", "empty"),
        ("trailing comma", "\"network\": \"none\",", "\"network\": \"none\",,", .syntax, "", "expected a member name"),
        ("duplicate key", "\"network\": \"none\",", "\"network\": \"none\", \"network\": \"none\",", .syntax, "", "duplicate key"),
    ]

    @Test("every bad input class is rejected with a located, specific error", arguments: badInputs)
    func badInput(_ testCase: (String, String, String, SpecError.Code, String, String)) {
        let (what, old, new, code, path, fragment) = testCase
        let text = PolicyFixtures.policy(replacing: old, with: new)
        #expect {
            _ = try Policy.parse(text, file: "bad.json")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            let ok = error.code == code && (path.isEmpty || error.path == path) && error.message.contains(fragment)
                && error.line > 0 && error.column > 0 && error.description.hasPrefix("bad.json:\(error.line):\(error.column): ")
            if !ok { Issue.record("\(what): got \(error.code) \(error)") }
            return ok
        }
    }

    @Test("an error's line and column point at the offending value")
    func position() {
        let text = PolicyFixtures.policy(replacing: "\"pids\": 64", with: "\"pids\": 0")
        #expect {
            _ = try Policy.parse(text, file: "p.json")
        } throws: { error in
            // Line 11 of the fixture: `  "limits": {"memory": "256MiB", "pids": 0, ...`
            (error as? SpecError).map { $0.line == 11 && $0.column == 42 } ?? false
        }
    }

    @Test("files that cannot be read are io errors naming the file")
    func unreadable() throws {
        #expect { _ = try Policy.load(path: "/nonexistent/policy.json") } throws: {
            ($0 as? SpecError).map { $0.code == .io && $0.description.hasPrefix("/nonexistent/policy.json: cannot open") } ?? false
        }
        #expect { _ = try Policy.load(path: "/tmp") } throws: { ($0 as? SpecError)?.code == .io }
    }
}
