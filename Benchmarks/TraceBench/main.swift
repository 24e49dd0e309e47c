// trace-bench: trace append benchmarks, a demo-run generator, and the crash-test writer child.
//
//   trace-bench append DIR MODE N     MODE: write-loop | none | group | every; prints records/s
//   trace-bench demo DIR [RUNS]       records RUNS realistic runs (tests and docs use these)
//   trace-bench crash-writer DIR      appends forever with group commit, printing "durable SEQ"
//                                     after each barrier; the crash test kills it with SIGKILL
import Glibc
import Specs
import TraceStore

func fail(_ message: String) -> Never {
    let line = Array(("trace-bench: " + message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func say(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

func sampleStart(_ runID: String, agent: String = "bench") -> RunStart {
    RunStart(runID: runID, agentName: agent, spec: .object(JSONObject([("name", .string(agent))])), specSHA256: String(repeating: "a", count: 64),
             policy: .object(JSONObject([("seccomp", .object(JSONObject([("default", .string("errno"))])))])),
             policySHA256: String(repeating: "b", count: 64), hostname: "bench-host", kernel: "6.18", wardenVersion: "0.1.0",
             auditedSyscalls: ["mkdir"])
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail("usage: trace-bench append|demo|crash-writer DIR ...") }
let directory = TraceDirectory(path: arguments[1])
do {
    switch arguments[0] {
    case "append":
        guard arguments.count == 4, let count = Int(arguments[3]) else { fail("usage: trace-bench append DIR MODE N") }
        try AppendBenchmark.run(directory: directory, mode: arguments[2], count: count)
    case "demo":
        let runs = arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1
        for index in 0..<runs { say(try DemoRun.record(directory: directory, index: index)) }
    case "crash-writer":
        try CrashWriter.run(directory: directory)
    default:
        fail("unknown mode \(arguments[0])")
    }
} catch {
    fail("\(error)")
}
