import Foundation
import Testing
@testable import Specs

@Suite("AgentSpec decoding")
struct AgentSpecTests {
    static let validSpec = """
    {
      "name": "agent",
      "policy": "policies/mini.json",
      "code": "code",
      "entrypoint": ["/bin/sh", "/agent/run.sh"],
      "workingDirectory": "/workspace",
      "environment": {"PATH": "/usr/bin:/bin", "EMPTY": ""},
      "limits": {"memory": "64MiB"},
      "timeoutSeconds": 2.5
    }
    """

    /// A directory holding policies/mini.json, code/run.sh and spec.json (with `spec` as its text).
    func fixture(_ spec: String) throws -> String {
        let dir = try PolicyFixtures.temporaryDirectory()
        try PolicyFixtures.write(PolicyFixtures.minimalPolicy, "policies/mini.json", in: dir)
        try PolicyFixtures.write("echo hi\n", "code/run.sh", in: dir)
        try PolicyFixtures.write("not a directory", "file.txt", in: dir)
        return try PolicyFixtures.write(spec, "spec.json", in: dir)
    }

    @Test("a valid spec loads its policy and tightens the limits")
    func valid() throws {
        let path = try fixture(Self.validSpec)
        let spec = try AgentSpec.load(path: path)
        let dir = (path as NSString).deletingLastPathComponent
        #expect(spec.name == "agent")
        #expect(spec.policyPath.hasSuffix("/policies/mini.json") && spec.policy.name == "mini")
        #expect(spec.codeDirectory == URL(fileURLWithPath: dir).appendingPathComponent("code").resolvingSymlinksInPath().path)
        #expect(spec.entrypoint == ["/bin/sh", "/agent/run.sh"])
        #expect(spec.environmentStrings == ["PATH=/usr/bin:/bin", "EMPTY="])
        #expect(spec.limits.memoryBytes == 64 << 20 && spec.limits.wallMilliseconds == 2500)
        #expect(spec.limits.pids == 64, "limits the spec leaves out come from the policy")
    }

    @Test("the shipped hello spec loads")
    func hello() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try AgentSpec.load(path: root.appendingPathComponent("AgentSpecs/hello.json").path)
        #expect(spec.policy.name == "default")
        #expect(spec.codeDirectory?.hasSuffix("/AgentSpecs/hello") == true)
        #expect(spec.entrypoint.first == "/bin/sh" && spec.limits.memoryBytes == 128 << 20)
    }

    static let badSpecs: [(String, String, String, SpecError.Code, String, String)] = [
        ("empty argv", "[\"/bin/sh\", \"/agent/run.sh\"]", "[]", .invalidValue, "$.entrypoint", "empty"),
        ("relative argv0", "[\"/bin/sh\", \"/agent/run.sh\"]", "[\"sh\"]", .invalidValue, "$.entrypoint[0]", "absolute"),
        ("argv type", "[\"/bin/sh\", \"/agent/run.sh\"]", "[\"/bin/sh\", 3]", .schema, "$.entrypoint[1]", "expected a string"),
        ("NUL in argv", "\"/agent/run.sh\"]", "\"/agent/\\u0000run.sh\"]", .invalidValue, "$.entrypoint[1]", "NUL"),
        ("looser memory", "{\"memory\": \"64MiB\"}", "{\"memory\": \"1GiB\"}", .loosensPolicy, "$.limits.memory", "loosens the policy's limit of 256MiB"),
        ("looser timeout", "\"timeoutSeconds\": 2.5", "\"timeoutSeconds\": 61", .loosensPolicy, "$.timeoutSeconds", "loosens"),
        ("both timeouts", "{\"memory\": \"64MiB\"}", "{\"wallSeconds\": 5}", .invalidValue, "$.timeoutSeconds", "either"),
        ("unknown limit", "{\"memory\": \"64MiB\"}", "{\"memroy\": \"64MiB\"}", .schema, "$.limits.memroy", "did you mean \"memory\""),
        ("missing policy", "\"policies/mini.json\"", "\"policies/none.json\"", .invalidValue, "$.policy", "not found"),
        ("code with dot-dot", "\"code\": \"code\"", "\"code\": \"../code\"", .invalidValue, "$.code", "'..'"),
        ("absolute code", "\"code\": \"code\"", "\"code\": \"/usr\"", .invalidValue, "$.code", "relative"),
        ("missing code", "\"code\": \"code\"", "\"code\": \"nothing\"", .invalidValue, "$.code", "does not exist"),
        ("code is a file", "\"code\": \"code\"", "\"code\": \"file.txt\"", .invalidValue, "$.code", "not a directory"),
        ("relative workdir", "\"/workspace\",", "\"workspace\",", .invalidValue, "$.workingDirectory", "absolute"),
        ("env name", "\"EMPTY\": \"\"", "\"A=B\": \"\"", .invalidValue, "$.environment[\"A=B\"]", "environment variable name"),
        ("env value type", "\"EMPTY\": \"\"", "\"EMPTY\": 1", .schema, "$.environment.EMPTY", "expected a string"),
        ("unknown key", "\"name\": \"agent\",", "\"name\": \"agent\", \"entrypiont\": [],", .schema, "$.entrypiont", "did you mean \"entrypoint\""),
    ]

    @Test("every bad spec input is rejected with a located, specific error", arguments: badSpecs)
    func badSpec(_ testCase: (String, String, String, SpecError.Code, String, String)) throws {
        let (what, old, new, code, path, fragment) = testCase
        #expect(Self.validSpec.contains(old), "\(what): fixture text missing")
        let file = try fixture(Self.validSpec.replacingOccurrences(of: old, with: new))
        #expect {
            _ = try AgentSpec.load(path: file)
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            let ok = error.code == code && error.path == path && error.message.contains(fragment)
                && error.file == file && error.line > 0
            if !ok { Issue.record("\(what): got \(error.code) \(error)") }
            return ok
        }
    }

    @Test("an error inside the referenced policy names the policy file")
    func policyError() throws {
        let dir = try PolicyFixtures.temporaryDirectory()
        try PolicyFixtures.write(PolicyFixtures.policy(replacing: "\"pids\": 64", with: "\"pids\": -3"), "policies/mini.json", in: dir)
        try PolicyFixtures.write("", "code/run.sh", in: dir)
        let file = try PolicyFixtures.write(Self.validSpec, "spec.json", in: dir)
        #expect {
            _ = try AgentSpec.load(path: file)
        } throws: { ($0 as? SpecError).map { $0.file.hasSuffix("policies/mini.json") && $0.path == "$.limits.pids" } ?? false }
    }
}
