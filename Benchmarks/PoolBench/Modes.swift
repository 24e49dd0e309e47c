import Dispatch
import BenchSupport
import Inference

/// One request's life as the client saw it.
struct Outcome {
    /// Who the client is (kept when requests are relabelled to one fair-share identity).
    var label: String
    var submitted: Double
    var finished: Double
    var completion: PoolCompletion?
    var error: InferenceError?
    /// Submit to first token, as the pool measured it.
    var ttft: Double? { completion?.timeToFirstToken?.seconds }
}

/// Submits `request` and reads its events to the end.
func serve(_ pool: InferencePool, _ request: PoolRequest, label: String, onFirstText: (() -> Void)? = nil) -> Outcome {
    let submitted = now()
    var outcome = Outcome(label: label, submitted: submitted, finished: submitted)
    var first = true
    do {
        let ticket = try pool.submit(request)
        loop: while true {
            guard let event = ticket.next(timeout: .seconds(600)) else { break }
            switch event {
            case .text:
                if first { first = false; onFirstText?() }
            case .finished(let c): outcome.completion = c; break loop
            case .failed(let e): outcome.error = e; break loop
            }
        }
    } catch {
        outcome.error = error
    }
    outcome.finished = now()
    return outcome
}

/// Runs `clients` concurrently, each issuing its requests one after another; returns every outcome,
/// labelled with its request's agent unless `fcfs` puts every request under one agent.
func runClients(_ pool: InferencePool, _ clients: [[PoolRequest]], fcfs: Bool = false,
                onFirstText: (@Sendable () -> Void)? = nil) -> [Outcome] {
    let group = DispatchGroup()
    let results = ResultBox()
    for requests in clients {
        DispatchQueue.global().async(group: group) {
            for request in requests {
                var sent = request
                if fcfs { sent.agent = "everyone" }
                results.add(serve(pool, sent, label: request.agent, onFirstText: onFirstText))
            }
        }
    }
    group.wait()
    return results.all
}

/// Notes when the last of `count` streams shows its first text: the pool's generated-token count and the
/// time then, so decode throughput counts only tokens made while every stream was decoding.
final class AllStarted: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var arrived = 0
    private let count: Int
    private let pool: InferencePool
    private(set) var snapshot: (time: Double, generated: Int)?

    init(count: Int, pool: InferencePool) { self.count = count; self.pool = pool }

    func arrive() {
        lock.wait(); defer { lock.signal() }
        arrived += 1
        if arrived == count { snapshot = (now(), pool.metrics().generatedTokens) }
    }

    var taken: (time: Double, generated: Int)? { lock.wait(); defer { lock.signal() }; return snapshot }
}

final class ResultBox: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var items: [Outcome] = []
    func add(_ o: Outcome) { lock.wait(); items.append(o); lock.signal() }
    var all: [Outcome] { lock.wait(); defer { lock.signal() }; return items }
}

func makePool(_ model: LoadedModel, _ configure: (inout PoolConfiguration) -> Void) -> InferencePool {
    var configuration = PoolConfiguration()
    configure(&configuration)
    let threads = options.threads
    return InferencePool(configuration: configuration, tokenizer: model.tokenizer) { (kv: Int, block: Int) throws(InferenceError) -> any InferenceBackend in
        try model.makeBackend(kvMemoryBytes: kv, blockSize: block, threads: threads)
    }
}

func greedy(_ agent: String, _ prompt: [Int32], gen: Int, fixed: Bool = true) -> PoolRequest {
    PoolRequest(agent: agent, generation: GenerationRequest(prompt: prompt, maxTokens: gen, ignoresEndOfGeneration: fixed))
}

/// Aggregate decode throughput with N streams at once.
func throughput(_ model: LoadedModel) throws -> String {
    let perToken = model.llama.config.kvValuesPerToken * 2
    let maxStreams = options.streams.max() ?? 1
    let pool = makePool(model) {
        $0.kvMemoryBytes = maxStreams * (options.promptLength + options.gen + 32) * perToken
        $0.maxRunningSequences = max(maxStreams, 1)
    }
    defer { pool.shutdown() }
    var fields: [(String, String)] = [("threads", String(options.threads)), ("gen", String(options.gen))]
    for n in options.streams {
        let prompts = (0..<n).map { Array(options.promptIDs.dropFirst(7 * $0).prefix(options.promptLength)) }
        var decode: [Double] = [], endToEnd: [Double] = []
        let before = pool.metrics()
        for run in 0...options.runs {  // run 0 warms up
            let start = now()
            let started = AllStarted(count: n, pool: pool)
            let outcomes = runClients(pool, prompts.enumerated().map { [greedy("s\($0.offset)", $0.element, gen: options.gen)] },
                                      onFirstText: { started.arrive() })
            if let failure = outcomes.first(where: { $0.error != nil })?.error { throw failure }
            let end = outcomes.map(\.finished).max() ?? start
            let generated = pool.metrics().generatedTokens
            let tokens = outcomes.reduce(0) { $0 + ($1.completion?.usage.completionTokens ?? 0) }
            if run > 0, let snapshot = started.taken {
                decode.append(Double(generated - snapshot.generated) / (end - snapshot.time))
                endToEnd.append(Double(tokens) / (end - start))
            }
        }
        let after = pool.metrics()
        fields += [("b\(n)", list(decode)), ("b\(n)_median", String(median(decode))),
                   ("b\(n)_end_to_end_median", String(median(endToEnd))),
                   ("b\(n)_overhead", String(overhead(before, after)))]
    }
    return json(fields)
}

/// Scheduler time as a fraction of model time between two metric snapshots.
func overhead(_ a: PoolMetrics, _ b: PoolMetrics) -> Double {
    let scheduler = Double(b.schedulerNanoseconds - a.schedulerNanoseconds)
    let model = Double(b.modelNanoseconds - a.modelNanoseconds)
    return model > 0 ? scheduler / model : 0
}
