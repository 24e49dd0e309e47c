// guardrail-bench: guardrail scanning throughput, and a JSONL scan mode for the quality scripts.
//
//   guardrail-bench throughput [MIB (64)] [RUNS (5)] [DOC_KIB (64)]
//       builds a mixed MIB-MiB corpus (prose, code, logs, JSON tool arguments, a sprinkle of
//       secrets, PII and injection phrases), checks it in DOC_KIB documents with every default
//       detector on, prints one line per run and the median MB/s (1 MB = 10^6 bytes)
//   guardrail-bench jsonl < IN > OUT
//       each input line {"id": ..., "text": "..."} -> {"id": ..., "findings": [{"detector",
//       "rule", "start", "end"}]}, every detector on at every stage with action flag
import Glibc
import BenchSupport
import Guardrails
import Specs

func fail(_ message: String) -> Never {
    let line = Array(("guardrail-bench: " + message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func say(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}


/// CPU time of this process: on a shared machine, wall time counts other processes' load too.
func cpuNow() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "throughput":
    let mib = arguments.count > 1 ? Int(arguments[1]) ?? 64 : 64
    let runs = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
    let docKiB = arguments.count > 3 ? Int(arguments[3]) ?? 64 : 64
    Throughput.run(mib: mib, runs: runs, docKiB: docKiB)
case "detectors":
    Throughput.perDetector(mib: arguments.count > 1 ? Int(arguments[1]) ?? 16 : 16, docKiB: 64)
case "jsonl":
    JSONLScan.run()
default:
    fail("usage: guardrail-bench throughput [MIB] [RUNS] [DOC_KIB] | jsonl")
}
