import Foundation
import Testing
import TestSupport
@testable import Specs

/// The policy's `broker` section and the spec's narrowing of it, decoded strictly.
@Suite("Broker policy decoding")
struct PolicyBrokerTests {
    /// The default policy with its broker section replaced by `broker` (raw JSON text).
    static func policyText(broker: String?) throws -> String {
        let text = try String(contentsOf: SandboxScratch.defaultPolicy, encoding: .utf8)
        guard case .object(var object) = try JSONParser.parse(text) else { throw TraceToolError("default policy is not an object") }
        object["broker"] = nil
        var compact = JSONWriter.pretty(.object(object))
        if let broker {
            compact.removeLast()  // "}"
            compact += ",\n\"broker\": \(broker)\n}"
        }
        return compact
    }

    @Test("the default policy has a broker section; strict has none")
    func shippedPolicies() throws {
        let policy = try Policy.load(path: SandboxScratch.defaultPolicy.path)
        let broker = try #require(policy.broker)
        #expect(broker.models.map(\.name) == ["smollm2-135m"])
        #expect(broker.tools.map(\.name).contains("fs.read"))
        #expect(broker.rateLimits.requestsPerMinute != nil && broker.tokenBudget != nil)
        let strict = try Policy.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/strict.json").path)
        #expect(strict.broker == nil)
    }

    @Test("a full broker section decodes")
    func decodes() throws {
        let policy = try Policy.parse(Self.policyText(broker: """
            {"port": 9000, "models": [{"name": "m1", "maxTokensPerRequest": 64}, {"name": "m2", "maxTokensPerRequest": 8}],
             "tools": [{"name": "fs.read"}], "rateLimits": {"requestsPerMinute": 5, "tokensPerMinute": 100},
             "tokenBudget": 1000, "maxConcurrent": 2, "guardrails": {},
             "inference": {"weight": 2.5, "priority": "batch", "requestTimeoutSeconds": 30}}
            """))
        let broker = try #require(policy.broker)
        #expect(broker.port == 9000)
        #expect(broker.models == [.init(name: "m1", maxTokensPerRequest: 64), .init(name: "m2", maxTokensPerRequest: 8)])
        #expect(broker.rateLimits == .init(requestsPerMinute: 5, tokensPerMinute: 100))
        #expect(broker.tokenBudget == 1000 && broker.maxConcurrent == 2)
        #expect(broker.inference == InferenceShare(weightMilli: 2500, priority: .batch, requestTimeoutMilliseconds: 30_000))
        #expect(broker.inference.weight == 2.5)
        #expect(try Policy.parse(Self.policyText(broker: "{}")).broker?.inference == InferenceShare())
    }

    /// (broker JSON, expected code, text in the message, JSON path of the error)
    static let badSections: [(String, SpecError.Code, String, String)] = [
        (#"{"port": 0}"#, .invalidValue, "out of range", "$.broker.port"),
        (#"{"port": 70000}"#, .invalidValue, "out of range", "$.broker.port"),
        (#"{"port": "80"}"#, .schema, "expected a number", "$.broker.port"),
        (#"{"prot": 80}"#, .schema, "did you mean \"port\"", "$.broker.prot"),
        (#"{"models": [{"name": "m", "maxTokensPerRequest": -1}]}"#, .invalidValue, "out of range", "$.broker.models[0].maxTokensPerRequest"),
        (#"{"models": [{"name": "m"}]}"#, .schema, "maxTokensPerRequest", "$.broker.models[0]"),
        (#"{"models": [{"name": "m", "maxTokensPerRequest": 5}, {"name": "m", "maxTokensPerRequest": 6}]}"#, .invalidValue, "listed twice", "$.broker.models[1].name"),
        (#"{"tools": [{"name": "fs.read"}, {"name": "fs.read"}]}"#, .invalidValue, "listed twice", "$.broker.tools[1]"),
        (#"{"rateLimits": {"requestsPerMinute": 0}}"#, .invalidValue, "out of range", "$.broker.rateLimits.requestsPerMinute"),
        (#"{"rateLimits": {"tokensPerMinute": 1e12}}"#, .invalidValue, "integer", "$.broker.rateLimits.tokensPerMinute"),
        (#"{"tokenBudget": 99999999999999999999}"#, .invalidValue, "too large", "$.broker.tokenBudget"),
        (#"{"maxConcurrent": 0}"#, .invalidValue, "out of range", "$.broker.maxConcurrent"),
        (#"{"maxConcurrent": 5000}"#, .invalidValue, "out of range", "$.broker.maxConcurrent"),
        (#"{"guardrails": []}"#, .schema, "expected an object", "$.broker.guardrails"),
        (#"{"inference": {"weight": 0}}"#, .invalidValue, "out of range", "$.broker.inference.weight"),
        (#"{"inference": {"weight": 0.0001}}"#, .invalidValue, "at most 3 digits", "$.broker.inference.weight"),
        (#"{"inference": {"weight": -1}}"#, .invalidValue, "non-negative", "$.broker.inference.weight"),
        (#"{"inference": {"priority": "urgent"}}"#, .invalidValue, "unknown priority", "$.broker.inference.priority"),
        (#"{"inference": {"requestTimeoutSeconds": 0}}"#, .invalidValue, "out of range", "$.broker.inference.requestTimeoutSeconds"),
        (#"{"inference": {"wieght": 1}}"#, .schema, "did you mean \"weight\"", "$.broker.inference.wieght"),
    ]

    @Test("impossible values are refused at their path", arguments: badSections)
    func refused(_ broker: String, _ code: SpecError.Code, _ message: String, _ path: String) throws {
        let text = try Self.policyText(broker: broker)
        let error = #expect(throws: SpecError.self) { try Policy.parse(text, file: "p.json") }
        #expect(error?.code == code, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        #expect(error?.path == path)
        #expect((error?.line ?? 0) > 1 && error?.file == "p.json")
    }

    /// Writes a policy and a spec with the given broker sections; returns the spec's path.
    static func spec(policyBroker: String?, specBroker: String?) throws -> String {
        let directory = try SandboxScratch.directory("broker-spec")
        try policyText(broker: policyBroker).write(to: directory.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        var spec = #"{"name": "t", "policy": "policy.json", "entrypoint": ["/bin/true"]"#
        if let specBroker { spec += #", "broker": "# + specBroker }
        spec += "}"
        let path = directory.appendingPathComponent("spec.json").path
        try spec.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let policyBroker = """
        {"models": [{"name": "big", "maxTokensPerRequest": 512}, {"name": "small", "maxTokensPerRequest": 64}],
         "tools": [{"name": "fs.read"}, {"name": "fs.write"}, {"name": "notes.*"}], "rateLimits": {"requestsPerMinute": 100},
         "tokenBudget": 5000, "maxConcurrent": 4, "inference": {"weight": 2, "requestTimeoutSeconds": 60}}
        """

    @Test("a spec narrows the policy's broker section and declares MCP servers")
    func narrows() throws {
        let path = try Self.spec(policyBroker: Self.policyBroker, specBroker: """
            {"models": [{"name": "small"}, {"name": "big", "maxTokensPerRequest": 100}], "tools": ["fs.read", "notes.add"],
             "rateLimits": {"requestsPerMinute": 10, "tokensPerMinute": 1000}, "tokenBudget": 50, "maxConcurrent": 1,
             "inference": {"weight": 0.5, "priority": "batch"},
             "mcpServers": [{"name": "notes", "command": ["/usr/bin/python3", "/agent/notes_server.py"], "environment": {"A": "1"}}]}
            """)
        let spec = try AgentSpec.load(path: path)
        let broker = try #require(spec.broker)
        #expect(broker.models == [.init(name: "small", maxTokensPerRequest: 64), .init(name: "big", maxTokensPerRequest: 100)])
        #expect(broker.tools.map(\.name) == ["fs.read", "notes.add"])
        #expect(broker.rateLimits == .init(requestsPerMinute: 10, tokensPerMinute: 1000))
        #expect(broker.tokenBudget == 50 && broker.maxConcurrent == 1)
        #expect(broker.inference == InferenceShare(weightMilli: 500, priority: .batch, requestTimeoutMilliseconds: 60_000))
        #expect(spec.mcpServers == [.init(name: "notes", command: ["/usr/bin/python3", "/agent/notes_server.py"],
                                          environment: [.init(name: "A", value: "1")])])
    }

    @Test("an empty spec section takes the policy's as is; no spec section means no broker")
    func inherits() throws {
        let spec = try AgentSpec.load(path: Self.spec(policyBroker: Self.policyBroker, specBroker: "{}"))
        #expect(spec.broker?.models.count == 2 && spec.broker?.tokenBudget == 5000 && spec.mcpServers.isEmpty)
        let without = try AgentSpec.load(path: Self.spec(policyBroker: Self.policyBroker, specBroker: nil))
        #expect(without.broker == nil && without.policy.broker != nil)
    }

    /// (spec broker JSON, code, message text, path)
    static let looser: [(String, SpecError.Code, String, String)] = [
        (#"{"models": [{"name": "other"}]}"#, .loosensPolicy, "\"other\" is not allowed", "$.broker.models[0]"),
        (#"{"models": [{"name": "small", "maxTokensPerRequest": 65}]}"#, .loosensPolicy, "maxTokensPerRequest 65", "$.broker.models[0].maxTokensPerRequest"),
        (#"{"tools": ["code.exec"]}"#, .loosensPolicy, "\"code.exec\" is not allowed", "$.broker.tools[0]"),
        (#"{"tools": ["fs.read", "other.add"]}"#, .loosensPolicy, "\"other.add\" is not allowed", "$.broker.tools[1]"),
        (#"{"rateLimits": {"requestsPerMinute": 101}}"#, .loosensPolicy, "requestsPerMinute 101", "$.broker.rateLimits.requestsPerMinute"),
        (#"{"tokenBudget": 5001}"#, .loosensPolicy, "tokenBudget 5001", "$.broker.tokenBudget"),
        (#"{"maxConcurrent": 5}"#, .loosensPolicy, "maxConcurrent 5", "$.broker.maxConcurrent"),
        (#"{"inference": {"weight": 2.001}}"#, .loosensPolicy, "inference weight 2.001 (policy: 2)", "$.broker.inference.weight"),
        (#"{"inference": {"requestTimeoutSeconds": 61}}"#, .loosensPolicy, "requestTimeoutSeconds 61", "$.broker.inference.requestTimeoutSeconds"),
        (#"{"port": 1}"#, .schema, "unknown key \"port\"", "$.broker.port"),
        (#"{"mcpServers": [{"name": "a.b", "command": ["/bin/x"]}]}"#, .invalidValue, "must not contain '.'", "$.broker.mcpServers[0].name"),
        (#"{"mcpServers": [{"name": "a", "command": ["x"]}]}"#, .invalidValue, "absolute", "$.broker.mcpServers[0].command[0]"),
        (#"{"mcpServers": [{"name": "a", "command": ["/x"]}, {"name": "a", "command": ["/y"]}]}"#, .invalidValue, "declared twice", "$.broker.mcpServers[1].name"),
    ]

    @Test("a spec that loosens the broker policy is refused, naming the field", arguments: looser)
    func loosening(_ specBroker: String, _ code: SpecError.Code, _ message: String, _ path: String) throws {
        let specPath = try Self.spec(policyBroker: Self.policyBroker, specBroker: specBroker)
        let error = #expect(throws: SpecError.self) { try AgentSpec.load(path: specPath) }
        #expect(error?.code == code, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        #expect(error?.path == path)
    }

    @Test("a spec broker section needs a policy broker section")
    func needsPolicySection() throws {
        let specPath = try Self.spec(policyBroker: nil, specBroker: #"{"tools": []}"#)
        let error = #expect(throws: SpecError.self) { try AgentSpec.load(path: specPath) }
        #expect(error?.code == .loosensPolicy && error?.path == "$.broker")
    }
}
