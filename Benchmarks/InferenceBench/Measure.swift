#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
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
        let table = blockTable(backend, sequence: 0, positions: prompt.count + gen + 1)
        let t0 = now()
        var logits = try backend.evaluate([BatchEntry(blocks: table, start: 0, tokens: prompt)])[0]
        let t1 = now(), c1 = cpuTime()
        for step in 0..<gen {
            logits = try backend.evaluate([BatchEntry(blocks: table, start: prompt.count + step, tokens: [argmax(logits)])])[0]
        }
        let t2 = now()
        if run > 0 {
            pp.append(Double(prompt.count) / (t1 - t0))
            tg.append(Double(gen) / (t2 - t1))
            tgCPU.append(Double(gen) / (cpuTime() - c1))
        }
        rss = max(rss, memory("VmRSS"))
        kv = max(kv, kvBytes(backend, positions: prompt.count + gen))
    }
    return (pp, tg, rss, kv, tgCPU)
}

/// B sequences with their own prompts; every decode step is one evaluate holding one token per sequence.
func benchBatched(_ backend: CPUBackend, prompts: [[Int32]], gen: Int, runs: Int) throws -> (agg: [Double], rss: Int, kv: Int) {
    var agg: [Double] = [], rss = 0, kv = 0
    for run in 0...runs {
        let tables = prompts.indices.map { blockTable(backend, sequence: $0, positions: prompts[$0].count + gen + 1) }
        var next: [Int32] = []
        for (t, p) in zip(tables, prompts) {  // prefill one sequence at a time, as the peer does
            next.append(argmax(try backend.evaluate([BatchEntry(blocks: t, start: 0, tokens: p)])[0]))
        }
        let t0 = now()
        for step in 0..<gen {
            let logits = try backend.evaluate(prompts.indices.map {
                BatchEntry(blocks: tables[$0], start: prompts[$0].count + step, tokens: [next[$0]])
            })
            next = logits.map(argmax)
        }
        let t1 = now()
        if run > 0 { agg.append(Double(prompts.count * gen) / (t1 - t0)) }
        rss = max(rss, memory("VmRSS"))
        kv = max(kv, prompts.reduce(0) { $0 + kvBytes(backend, positions: $1.count + gen) })
    }
    return (agg, rss, kv)
}

/// Sequence `sequence`'s blocks: its own consecutive run of the arena (sequences never share here).
func blockTable(_ backend: CPUBackend, sequence: Int, positions: Int) -> [Int32] {
    let n = backend.kvLayout.blocks(for: positions)
    return (0..<n).map { Int32(sequence * n + $0) }
}

/// KV bytes `positions` cached positions occupy.
func kvBytes(_ backend: CPUBackend, positions: Int) -> Int { positions * backend.config.kvValuesPerToken * 2 }
