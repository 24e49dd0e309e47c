import Foundation
import Specs
import Testing
import TestSupport
@testable import TraceStore

@Suite("OTLP/JSON export")
struct OTLPTests {
    /// A run with every kind of record, exported.
    static func exported() throws -> JSONValue {
        let fixture = try TraceFixture("otlp")
        defer { fixture.remove() }
        let recorder = try TraceRecorder.start(TraceFixture.start(agent: "helper"), directory: fixture.directory)
        let now = TraceClock.wallNanoseconds()
        let process = try recorder.processSpawned(ProcessSpawn(pid: 7, executable: "/usr/bin/python3", argv: ["python3", "a.py"]))
        try recorder.seccompDenied(SeccompDenial(pid: 7, syscall: "mkdir", number: 83, arguments: [UInt64.max, 0], errno: 1), span: process)
        try recorder.limitReached(LimitEvent(limit: "memory", action: "killed", value: 1 << 30), span: process)
        let call = try recorder.toolCall(ToolCall(tool: "fs.read", callID: "c1", decision: "allowed", startNanoseconds: now, endNanoseconds: now + 5))
        try recorder.guardrailDecided(GuardrailDecision(guardrail: "pii", target: "output", verdict: "modify", action: "redacted"), span: call)
        try recorder.modelRequest(ModelRequest(operation: "chat", provider: "warden", model: "smol", startNanoseconds: now,
                                               endNanoseconds: now + 9, inputTokens: 3, outputTokens: 4, cachedInputTokens: 2,
                                               finishReasons: ["stop"]), parent: call)
        var exit = ProcessExit(pid: 7, exitCode: nil, signal: 9)
        exit.oomKilled = true
        try recorder.processExited(exit, span: process)
        try recorder.finish(RunEnd(status: "killed", exitCode: nil, signal: 9, reason: "memory limit"))
        let records = try fixture.directory.readRun(recorder.runID).records.map(\.record)
        return try OTLPExport.export(records: records, wardenVersion: "0.1.0")
    }

    @Test("the export passes the strict checker, with GenAI names and warden.* events")
    func strict() throws {
        let document = try Self.exported()
        let problems = OTLPChecker.check(document)
        #expect(problems.isEmpty, "\(problems)")
        let spans = OTLPChecker.spans(document)
        #expect(spans.map { $0.string("name") }.contains("invoke_agent helper"))
        #expect(spans.map { $0.string("name") }.contains("execute_tool fs.read"))
        #expect(spans.map { $0.string("name") }.contains("chat smol"))
        let text = JSONWriter.compact(document)
        #expect(text.contains(#"{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"2"}}"#), "cached prompt tokens")
        #expect(text.contains("\"warden.seccomp.denial\"") && text.contains("\"warden.seccomp.syscall\""))
        #expect(text.contains("\"intValue\":\"18446744073709551615\"") == false, "u64 beyond int64 is not an intValue")
    }

    static let mutations: [(String, @Sendable (inout JSONObject) -> Void)] = [
        ("unknown key", { $0["dropped_attributes_count"] = .number(JSONNumber(0)) }),
        ("short span id", { $0["spanId"] = .string("abcd") }),
        ("parent not in trace", { $0["parentSpanId"] = .string("0102030405060708") }),
        ("end before start", { $0["endTimeUnixNano"] = .string("1") }),
        ("int64 as number", { $0["startTimeUnixNano"] = .number(JSONNumber(5)) }),
        ("enum as name", { $0["kind"] = .string("SPAN_KIND_INTERNAL") }),
        ("zero trace id", { $0["traceId"] = .string(String(repeating: "0", count: 32)) }),
    ]

    @Test("the strict checker rejects each kind of mistake", arguments: mutations.indices)
    func checkerCatches(index: Int) throws {
        let (label, mutate) = Self.mutations[index]
        let document = OTLPChecker.mutatingSecondSpan(try Self.exported(), mutate)
        #expect(!OTLPChecker.check(document).isEmpty, "checker accepted: \(label)")
    }

    @Test("opentelemetry-proto-json parses the export: hex ids, int64 strings, nesting")
    func pythonParser() throws {
        let python = try TraceTools.otlpCheckerPython()
        let file = NSTemporaryDirectory() + "warden-otlp-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(JSONWriter.compactBytes(try Self.exported())).write(to: URL(fileURLWithPath: file))
        let script = """
            import json, sys
            from opentelemetry.proto_json.collector.trace.v1.trace_service import ExportTraceServiceRequest
            request = ExportTraceServiceRequest.from_dict(json.load(open(sys.argv[1])))
            spans = request.resource_spans[0].scope_spans[0].spans
            ids = {s.span_id for s in spans}
            assert all(len(s.trace_id) == 16 and len(s.span_id) == 8 for s in spans), "id lengths"
            roots = [s for s in spans if not s.parent_span_id]
            assert len(roots) == 1 and roots[0].name == "invoke_agent helper", "one invoke_agent root"
            assert all(s.parent_span_id in ids for s in spans if s.parent_span_id), "parents resolve"
            assert all(s.end_time_unix_nano >= s.start_time_unix_nano > 0 for s in spans), "times"
            print(len(spans), sum(len(s.events) for s in spans))
            """
        let result = try WardenTool.runProcess(python, ["-c", script, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("4 "), "spans: run, process, tool call, model request: \(result.stdout)")
    }
}
