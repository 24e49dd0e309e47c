#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels
import BenchSupport
import Inference

let options = parse()
do {
    let kernels: CPUBackend.Kernels = options.kernels == "swift" ? .swift : .native
    if options.kernels == "avx2" { wk_isa_set(1) }
    if options.kernels == "scalar" { wk_isa_set(0) }
    let t0 = now()
    let model = try LlamaModel(path: options.model)
    let streams = max(1, options.batches.max() ?? 1), positions = options.promptLength + options.gen + 1
    let backend = try CPUBackend(model: model, threads: options.threads, kernels: kernels,
                                 kvMemoryBytes: streams * (positions + 16) * model.config.kvValuesPerToken * 2)
    let loadSeconds = now() - t0
    var st = stat()
    stat(options.model, &st)
    let prompt = Array(options.promptIDs.prefix(options.promptLength))
    let single = try benchSingle(backend, prompt: prompt, gen: options.gen, runs: options.runs)
    var fields: [String] = [
        "\"backend\": \"\(backend.name)\"", "\"threads\": \(options.threads)", "\"load_s\": \(loadSeconds)",
        "\"model_bytes\": \(st.st_size)", "\"pp\": \(single.pp)", "\"tg\": \(single.tg)",
        "\"pp_median\": \(median(single.pp))", "\"tg_median\": \(median(single.tg))",
        "\"tg_per_cpu_s\": \(median(single.tgCPU))", "\"single_rss\": \(single.rss)", "\"single_kv\": \(single.kv)",
    ]
    for b in options.batches {
        let prompts = (0..<b).map { s in Array(options.promptIDs.dropFirst(7 * s).prefix(options.promptLength)) }
        let r = try benchBatched(backend, prompts: prompts, gen: options.gen, runs: options.runs)
        fields += ["\"b\(b)\": \(r.agg)", "\"b\(b)_median\": \(median(r.agg))", "\"b\(b)_rss\": \(r.rss)", "\"b\(b)_kv\": \(r.kv)"]
    }
    if options.bandwidth {
        fields.append("\"bandwidth_gbs\": \(readBandwidth(threads: options.threads))")
    }
    print("{" + fields.joined(separator: ", ") + "}")
} catch {
    fail("\(error)")
}
