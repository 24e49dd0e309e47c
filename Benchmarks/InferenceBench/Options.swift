// InferenceBench: Warden's side of Benchmarks/inference.sh. Measures, on the real model with N threads:
// 128-token prompt tok/s, 128-token greedy decode tok/s, aggregate decode tok/s with B sequences batched
// (one evaluate per step holding one token per sequence), resident memory while generating, and the
// machine's read bandwidth. Prints one JSON object. Same method as llama.cpp's side (inference_peer.py).
#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels
import BenchSupport
import Inference

struct Options {
    var model = ""
    var threads = 2
    var runs = 3
    var gen = 128
    var promptLength = 128
    var promptIDs: [Int32] = []
    var batches: [Int] = [4, 8]
    var kernels = "native"
    var bandwidth = false
}

func parse() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        let v = args.next() ?? ""
        switch a {
        case "--model": o.model = v
        case "--threads": o.threads = Int(v) ?? 2
        case "--runs": o.runs = Int(v) ?? 3
        case "--gen": o.gen = Int(v) ?? 128
        case "--prompt-len": o.promptLength = Int(v) ?? 128
        case "--prompt-ids": o.promptIDs = readIDs(v)
        case "--batches": o.batches = v.split(separator: ",").compactMap { Int($0) }
        case "--kernels": o.kernels = v
        case "--bandwidth": o.bandwidth = v == "1"
        default: fail("unknown option \(a)")
        }
    }
    if o.model.isEmpty { fail("usage: InferenceBench --model PATH [--threads 2] [--runs 3] [--prompt-ids FILE] [--batches 4,8] [--kernels native|avx2|scalar|swift] [--bandwidth 1]") }
    if o.promptIDs.isEmpty { o.promptIDs = (0..<(o.promptLength + 64)).map { Int32(1000 + ($0 * 7919) % 40000) } }
    return o
}

func fail(_ message: String) -> Never { BenchSupport.fail("InferenceBench", message) }

func readIDs(_ path: String) -> [Int32] {
    guard let ids = readTokenIDs(path) else { fail("cannot open \(path)") }
    return ids
}

func argmax(_ v: [Float]) -> Int32 {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return Int32(best)
}

/// VmRSS / VmHWM of this process in bytes.
func memory(_ field: String) -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix(field + ":") { return (Int(s.split(separator: " ")[1]) ?? 0) * 1024 }
    }
    return 0
}
