import Foundation
import Testing
@testable import Broker
import Specs
import TestSupport
@testable import TraceStore

/// The invocation pipeline end to end: registry filtering, schema and rule validation, and the
/// trace span each call leaves (arguments and result as the tool and the agent saw them).
@Suite struct ToolsInvocationTests {
    @Test func onlyAllowedToolsAreRegistered() throws {
        let workspace = try SandboxScratch.directory("warden-registry")
        defer { SandboxScratch.remove(workspace) }
        let policy = BrokerPolicy(tools: [ToolRule(name: "fs.read"), ToolRule(name: "code.exec")])
        let registry = ToolRegistry(policy: policy, environment: ToolEnvironment(workspace: workspace.path))
        #expect(registry.descriptors.map(\.name) == ["fs.read", "code.exec"])
        #expect(registry.entry(named: "fs.write") == nil && registry.entry(named: "http.fetch") == nil)
        let homeless = ToolRegistry(policy: policy, environment: ToolEnvironment(workspace: nil))
        #expect(homeless.descriptors.map(\.name) == ["code.exec"])
        #expect(homeless.unavailable.contains { $0.contains("no host workspace") })
        // Every built-in's schema is what tools/list shows, and compiles.
        for tool in [FileReadTool.schemaText, FileWriteTool.schemaText, FileListTool.schemaText, CodeExecTool.schemaText, HTTPFetchTool.schemaText] {
            #expect(ArgumentSchema.parse(tool) != nil)
        }
    }

    @Test func callsAreTracedWithArgumentsAndResults() throws {
        let workspace = try SandboxScratch.directory("warden-invoke")
        let traces = try TraceTools.makeTemporaryDirectory("warden-invoke-trace")
        defer { SandboxScratch.remove(workspace); try? FileManager.default.removeItem(atPath: traces) }
        let start = RunStart(runID: RunID.make(), agentName: "tools-test", spec: .object([:]), specSHA256: String(repeating: "1", count: 64),
                             policy: .object([:]), policySHA256: String(repeating: "2", count: 64), hostname: "h", kernel: "k", wardenVersion: "0")
        let recorder = try TraceRecorder.start(start, directory: TraceDirectory(path: traces))
        let pathRule = try #require(ArgumentSchema.parse(#"{"properties": {"path": {"pattern": "^[a-z]+\\.txt$"}}}"#))
        let policy = BrokerPolicy(tools: [ToolRule(name: "fs.read", arguments: pathRule), ToolRule(name: "fs.write")])
        let endpoint = try AgentEndpoint(runID: start.runID, token: "t", policy: policy, workspace: workspace.path, trace: recorder)
        let registry = ToolRegistry(policy: policy, environment: ToolEnvironment(workspace: workspace.path))
        func call(_ name: String, _ arguments: JSONObject, _ id: String) throws -> ToolResult {
            try ToolInvocation.run(name, arguments: arguments, callID: id, registry: registry, endpoint: endpoint).get()
        }
        #expect(try !call("fs.write", ["path": .string("notes.txt"), "content": .string("traced text")], "w1").isError)
        #expect(try call("fs.read", ["path": .string("notes.txt")], "r1").text == "traced text")
        let escape = try call("fs.read", ["path": .string("../../etc/shadow")], "r2")
        #expect(escape.denied && escape.text.contains("does not match the pattern"), "\(escape.text)")
        let typed = try call("fs.read", ["path": .number(JSONNumber(1))], "r3")
        #expect(typed.denied && typed.text.contains("$.path: expected string"))
        try recorder.sync()
        let records = try TraceReader.scan(path: TraceDirectory(path: traces).runPath(start.runID)).records.map(\.record)
        let calls = records.filter { $0.type == .toolCall }.map(\.body)
        #expect(calls.count == 4)
        let byID = Dictionary(uniqueKeysWithValues: calls.compactMap { body -> (String, JSONObject)? in
            guard case .string(let id)? = body["call_id"] else { return nil }
            return (id, body)
        })
        #expect(byID["w1"]?["decision"] == .string("allowed") && byID["w1"]?["tool"] == .string("fs.write"))
        #expect(byID["r1"]?["result"] == .string("traced text"))
        #expect(byID["r1"]?["arguments"] == .string(#"{"path":"notes.txt"}"#))
        #expect(byID["r2"]?["decision"] == .string("denied") && byID["r2"]?["error"] != .null)
        #expect(byID["r3"]?["decision"] == .string("denied"))
        if case .string(let hash)? = byID["r1"]?["result_sha256"] { #expect(hash.count == 64) } else { Issue.record("no result hash") }
    }
}

/// Tool calls count against the run's request rate (the broker-core work's Admission).
@Suite struct ToolsAdmissionTests {
    @Test func aToolCallOverTheRateIsRefusedWithTheWait() throws {
        let workspace = try SandboxScratch.directory("warden-admission")
        defer { SandboxScratch.remove(workspace) }
        let policy = BrokerPolicy(tools: [ToolRule(name: "fs.list")], rateLimits: .init(requestsPerMinute: 2))
        let endpoint = try AgentEndpoint(runID: "run-admission", token: "t", policy: policy, workspace: workspace.path, trace: nil)
        let registry = ToolRegistry(policy: policy, environment: ToolEnvironment(workspace: workspace.path))
        let results = try (0..<3).map { i in
            try ToolInvocation.run("fs.list", arguments: [:], callID: "\(i)", registry: registry, endpoint: endpoint).get()
        }
        #expect(!results[0].isError && !results[1].isError)
        #expect(results[2].denied && results[2].text.contains("retry after"), "\(results[2].text)")
    }
}
