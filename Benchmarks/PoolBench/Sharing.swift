import BenchSupport
import Inference

/// Quiet agents with and without a noisy one; the noisy load again as one first-come-first-served queue.
func fairness(_ model: LoadedModel) throws -> String {
    let gen = 32, promptLength = 64
    let pool = makePool(model) { $0.maxRunningSequences = 12 }  // the nine quiet agents fit; with the noisy one they do not
    defer { pool.shutdown() }
    func quietClients(agent: (Int) -> String) -> [[PoolRequest]] {
        (0..<options.quiet).map { i in
            (0..<options.requests).map { r in
                greedy(agent(i), Array(options.promptIDs.dropFirst(5 * i + r).prefix(promptLength)), gen: gen)
            }
        }
    }
    func noisyClients(agent: String) -> [[PoolRequest]] {
        (0..<10).map { c in
            (0..<options.requests).map { r in greedy(agent, Array(options.promptIDs.dropFirst(3 * c + r).prefix(promptLength)), gen: gen) }
        }
    }
    _ = runClients(pool, quietClients { "q\($0)" } + noisyClients(agent: "noisy"))  // warm-up
    func measure(_ clients: [[PoolRequest]], fcfs: Bool = false) -> (p95: Double, p50: Double, throughput: Double) {
        let start = now()
        let outcomes = runClients(pool, clients, fcfs: fcfs)
        let end = outcomes.map(\.finished).max() ?? start
        let quietTTFT = outcomes.filter { $0.label.hasPrefix("q") }.compactMap(\.ttft)
        let tokens = outcomes.reduce(0) { $0 + ($1.completion?.usage.completionTokens ?? 0) }
        return (percentile(quietTTFT, 95), median(quietTTFT), Double(tokens) / (end - start))
    }
    var fields: [(String, String)] = []
    for run in 1...options.runs {
        let alone = measure(quietClients { "q\($0)" })
        let noisy = measure(quietClients { "q\($0)" } + noisyClients(agent: "noisy"))
        let fcfs = measure(quietClients { "q\($0)" } + noisyClients(agent: "noisy"), fcfs: true)
        fields += [("run\(run)", json([
            ("quiet_alone_p95_ms", String(alone.p95 * 1000)), ("quiet_alone_p50_ms", String(alone.p50 * 1000)),
            ("quiet_noisy_p95_ms", String(noisy.p95 * 1000)), ("quiet_noisy_p50_ms", String(noisy.p50 * 1000)),
            ("quiet_fcfs_p95_ms", String(fcfs.p95 * 1000)), ("p95_ratio", String(noisy.p95 / alone.p95)),
            ("throughput_alone", String(alone.throughput)), ("throughput_noisy", String(noisy.throughput)),
            ("throughput_fcfs", String(fcfs.throughput)), ("throughput_ratio_vs_fcfs", String(noisy.throughput / fcfs.throughput)),
        ]))]
    }
    return json(fields)
}

/// Agents of one spec sharing a system prompt: prefill saved by the prefix cache and what it does to
/// time to first token (the cache warmed by one earlier request, as a running deployment's would be).
func prefix(_ model: LoadedModel) throws -> String {
    let system = String(repeating: "You are a careful assistant working inside a sandbox. Every tool call goes through a broker that checks it against a policy. Answer briefly, cite the files you read, and never guess a path. ", count: 6)
    func request(_ i: Int) throws -> PoolRequest {
        let messages = [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: "Question \(i): what is \(i) + \(i * 3)?")]
        return greedy("agent\(i)", try model.promptTokens(for: messages), gen: 16)
    }
    var fields: [(String, String)] = []
    for caching in [true, false] {
        var ttft50: [Double] = [], ttft95: [Double] = [], computed: [Double] = [], cached: [Double] = [], wall: [Double] = []
        for _ in 0...options.runs {
            let pool = makePool(model) { $0.prefixCaching = caching; $0.maxRunningSequences = options.agents }
            defer { pool.shutdown() }
            _ = runClients(pool, [[try request(1000)]])  // warms the cache (and the backend)
            let start = now()
            let outcomes = runClients(pool, try (0..<options.agents).map { [try request($0)] })
            if let failure = outcomes.first(where: { $0.error != nil })?.error { throw failure }
            let ttft = outcomes.compactMap(\.ttft)
            ttft50.append(median(ttft)); ttft95.append(percentile(ttft, 95))
            let usage = outcomes.compactMap { $0.completion?.usage }
            computed.append(Double(usage.reduce(0) { $0 + $1.promptTokens - $1.cachedPromptTokens }))
            cached.append(Double(usage.reduce(0) { $0 + $1.cachedPromptTokens }))
            wall.append(now() - start)
        }
        let tag = caching ? "cache_on" : "cache_off"
        fields += [(tag, json([
            ("prompt_tokens_each", String(try request(0).generation.prompt.count)),
            ("prefill_tokens_computed", String(median(Array(computed.dropFirst())))),
            ("prefill_tokens_cached", String(median(Array(cached.dropFirst())))),
            ("ttft_p50_ms", String(median(Array(ttft50.dropFirst())) * 1000)),
            ("ttft_p95_ms", String(median(Array(ttft95.dropFirst())) * 1000)),
            ("wall_s", String(median(Array(wall.dropFirst())))),
        ]))]
    }
    return json(fields)
}
