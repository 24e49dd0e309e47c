// PoolBench: Warden's side of Benchmarks/pool.sh: the inference pool on the real model.
//
//   PoolBench throughput --model M --prompt-ids F [--streams 1,4,8,16] [--gen 128] [--runs 3]
//       N requests at once (128-token prompts shifted by 7 tokens per stream, as llama.cpp's side),
//       each decoding exactly `gen` tokens; aggregate decode tok/s once every stream has its first token.
//   PoolBench fairness --model M [--quiet 9] [--requests 4]
//       nine quiet agents (one request at a time) with and without a noisy agent keeping 10× as many
//       requests in flight; the same noisy load with every request under one agent (first come, first served).
//   PoolBench prefix --model M [--agents 16]
//       16 agents with one ~300-token system prompt and their own question, prefix cache on and off.
// Prints one JSON object per mode on stdout.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import BenchSupport
import Inference

let options = BenchOptions.parse()
do {
    let model = try LoadedModel(path: options.model, threads: options.threads)
    switch options.mode {
    case "throughput": print(try throughput(model))
    case "fairness": print(try fairness(model))
    case "prefix": print(try prefix(model))
    default: BenchOptions.fail("unknown mode \(options.mode)")
    }
} catch {
    BenchOptions.fail("\(error)")
}
