import Glibc
import Specs
import TraceStore

/// Records one run with every record type, as a supervisor and broker would.
enum DemoRun {
    static func record(directory: TraceDirectory, index: Int) throws -> String {
        let runID = RunID.make()
        let recorder = try TraceRecorder.start(sampleStart(runID, agent: "demo-agent"), directory: directory,
                                               configuration: RecorderConfiguration(outputLimitBytes: 64))
        let now = TraceClock.wallNanoseconds()
        let process = try recorder.processSpawned(ProcessSpawn(pid: 4242, executable: "/bin/sh", argv: ["/bin/sh", "-c", "mkdir /x; echo hi"]))
        try recorder.output(.stdout, Array("hello from run \(index)\n".utf8), span: process)
        try recorder.output(.stderr, [UInt8](repeating: 0xFF, count: 80), span: process)
        try recorder.seccompDenied(SeccompDenial(pid: 4242, syscall: "mkdir", number: 83, arguments: [140_737_488_355_328, 0o755], errno: 1), span: process)
        try recorder.limitReached(LimitEvent(limit: "pids", action: "refused", value: 64, detail: "fork refused at pids.max"), span: process)
        let call = try recorder.toolCall(ToolCall(tool: "fs.read", callID: "call-1", decision: "allowed", startNanoseconds: now, endNanoseconds: now + 2_000_000))
        try recorder.guardrailDecided(GuardrailDecision(guardrail: "secrets", target: "output", verdict: "deny", action: "redacted", rule: "aws-key"), span: call)
        try recorder.modelRequest(ModelRequest(operation: "chat", provider: "warden", model: "SmolLM2-135M-Instruct", startNanoseconds: now,
                                               endNanoseconds: now + 30_000_000, inputTokens: 12, outputTokens: 7, finishReasons: ["stop"]))
        var exit = ProcessExit(pid: 4242, exitCode: 0, signal: nil)
        exit.peakMemoryBytes = 3 << 20
        exit.userCPUNanoseconds = 1_000_000
        try recorder.processExited(exit, span: process)
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        return runID
    }
}

/// The crash-test child: appends batches forever, printing each durable seq after a barrier.
enum CrashWriter {
    static func run(directory: TraceDirectory) throws -> Never {
        let recorder = try TraceRecorder.start(sampleStart(RunID.make(), agent: "crash"), directory: directory,
                                               configuration: RecorderConfiguration(writer: WriterConfiguration(queueCapacity: 64)))
        say("run \(recorder.runID)")
        var seq: UInt64 = 0
        var random = SystemRandomNumberGenerator()
        while true {
            for _ in 0..<Int.random(in: 1...40, using: &random) {
                let size = Int.random(in: 1...3000, using: &random)
                seq = try recorder.append("crash.record", span: recorder.runSpan, parent: nil,
                                          body: JSONObject([("text", .string(String(repeating: "c", count: size)))]))
            }
            try recorder.sync()
            say("durable \(seq)")
        }
    }
}
