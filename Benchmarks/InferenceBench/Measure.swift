#if canImport(Glibc)
import Glibc
#endif
import Inference

/// CPU seconds used by this process (all threads): a load-independent view of the cost when the
/// machine is shared (tokens per CPU-second × threads estimates the unloaded rate).
func cpuTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Single stream: prefill the prompt, then `gen` greedy steps. Returns (prompt tok/s, decode tok/s) per run.
func benchSingle(_ backend: CPUBackend, prompt: [Int32], gen: Int, runs: Int) throws -> (pp: [Double], tg: [Double], rss: Int, kv: Int, tgCPU: [Double]) {
    var pp: [Double] = [], tg: [Double] = [], rss = 0, kv = 0, tgCPU: [Double] = []
    for run in 0...runs {  // run 0 is the warm-up
        let seq = try backend.makeSequence(capacity: prompt.count + gen + 1)
        defer { backend.releaseSequence(seq) }
        let t0 = now()
        var logits = try backend.evaluate([SequenceInput(sequence: seq, tokens: prompt)])[0]
        let t1 = now(), c1 = cpuTime()
        for _ in 0..<gen {
            logits = try backend.evaluate([SequenceInput(sequence: seq, tokens: [argmax(logits)])])[0]
        }
        let t2 = now()
        if run > 0 {
            pp.append(Double(prompt.count) / (t1 - t0))
            tg.append(Double(gen) / (t2 - t1))
            tgCPU.append(Double(gen) / (cpuTime() - c1))
        }
        rss = max(rss, memory("VmRSS"))
        kv = max(kv, backend.kvBytesInUse)
    }
    return (pp, tg, rss, kv, tgCPU)
}

/// B sequences with their own prompts; every decode step is one evaluate holding one token per sequence.
func benchBatched(_ backend: CPUBackend, prompts: [[Int32]], gen: Int, runs: Int) throws -> (agg: [Double], rss: Int, kv: Int) {
    var agg: [Double] = [], rss = 0, kv = 0
    for run in 0...runs {
        let seqs = try prompts.map { try backend.makeSequence(capacity: $0.count + gen + 1) }
        defer { seqs.forEach(backend.releaseSequence) }
        var next: [Int32] = []
        for (s, p) in zip(seqs, prompts) {  // prefill one sequence at a time, as the peer does
            next.append(argmax(try backend.evaluate([SequenceInput(sequence: s, tokens: p)])[0]))
        }
        let t0 = now()
        for _ in 0..<gen {
            let logits = try backend.evaluate(zip(seqs, next).map { SequenceInput(sequence: $0, tokens: [$1]) })
            next = logits.map(argmax)
        }
        let t1 = now()
        if run > 0 { agg.append(Double(prompts.count * gen) / (t1 - t0)) }
        rss = max(rss, memory("VmRSS"))
        kv = max(kv, backend.kvBytesInUse)
    }
    return (agg, rss, kv)
}
