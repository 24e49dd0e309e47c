import Foundation
import Synchronization
import Testing
@testable import Inference

/// Output processing overlapped with the next step (vLLM's async output processing), forced on for
/// the CPU backend through ``ForwardingBackend``: the same workloads give the same texts, finish
/// reasons and usage with overlap off and on, and the processing of a step's outputs really runs on
/// another thread while the next step is evaluated (shown by event order, never by time).
@Suite("Pool with overlapped output processing on SmolLM2: same outputs as without", .serialized)
struct PoolOverlapTests {
    /// A pool with one worker on the real model, held at its start by `gate`.
    static func pool(_ model: LoadedModel, overlap: Bool, log: StepLog, gate: StartGate, kvMemoryBytes: Int = 32 << 20,
                     maxRunning: Int = 16) -> InferencePool {
        var configuration = PoolConfiguration()
        configuration.kvMemoryBytes = kvMemoryBytes
        configuration.blockSize = 16
        configuration.maxRunningSequences = maxRunning
        configuration.minWorkers = 1
        configuration.maxWorkers = 1
        let pool = InferencePool(configuration: configuration, tokenizer: model.tokenizer) { kv, block throws(InferenceError) in
            gate.wait()
            return ForwardingBackend(try model.makeBackend(kvMemoryBytes: kv, blockSize: block, threads: 2), overlaps: overlap, log: log)
        }
        pool.outputObserver.handler.withLock { $0 = { log.observe($0) } }
        return pool
    }

    /// The workload's outcomes with overlap off and on (each in a fresh pool), and the logs.
    static func both(_ model: LoadedModel, _ requests: [PoolRequest], heldStep: UInt64? = nil, cancelAfterText: Int? = nil,
                     kvMemoryBytes: Int = 32 << 20) throws -> (off: [Outcome], on: [Outcome], offLog: StepLog, onLog: StepLog) {
        var results: [(outcomes: [Outcome], log: StepLog)] = []
        for overlap in [false, true] {
            let log = StepLog(heldStep: overlap ? heldStep : nil)
            let gate = StartGate()
            let pool = Self.pool(model, overlap: overlap, log: log, gate: gate, kvMemoryBytes: kvMemoryBytes)
            defer { pool.shutdown() }
            let outcomes = try OverlapRun.outcomes(pool, gate: gate, requests, cancelAfterText: cancelAfterText)
            let generated = outcomes.reduce(0) { $0 + ($1.usage?.completionTokens ?? 0) }
            let completed = outcomes.filter { $0.usage != nil }.count
            if cancelAfterText == nil {
                // Exact counting: a discarded extra token is neither generated nor charged.
                #expect(PoolFixture.eventually { pool.metrics().generatedTokens == generated }, "overlap \(overlap)")
            }
            #expect(PoolFixture.eventually { pool.metrics().completions == completed })
            #expect(PoolFixture.eventually { pool.metrics().kvBlocksUsed == 0 }, "overlap \(overlap): blocks freed")
            results.append((outcomes, log))
        }
        return (results[0].outcomes, results[1].outcomes, results[0].log, results[1].log)
    }

    static func request(_ prompt: [Int32], maxTokens: Int, agent: String, stop: [String] = [],
                        sampling: SamplingParameters = .greedy) -> PoolRequest {
        PoolRequest(agent: agent, generation: GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop))
    }

    /// A stop string the model reaches mid-generation: a word from the middle of `text`, or two
    /// characters from there when it has too few words; nil when none first occurs after the start.
    static func middleStop(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !$0.isLetter }).filter { $0.count >= 3 }.map(String.init)
        let characters = Array(text)
        let pieces = words.count >= 2 ? Array(words[(words.count / 2)...])
            : (characters.count / 2..<max(characters.count / 2, characters.count - 1)).map { String(characters[$0..<$0 + 2]) }
        return pieces.first { piece in
            guard !piece.contains(where: \.isWhitespace), let range = text.range(of: piece) else { return false }
            return range.lowerBound > text.startIndex
        }
    }

    static func expectSame(_ off: [Outcome], _ on: [Outcome]) {
        #expect(off.count == on.count)
        for (index, (a, b)) in zip(off, on).enumerated() {
            #expect(a == b, "request \(index): off \(a) / on \(b)")
        }
    }

    @Test("greedy max_tokens, a stop string, EOS, different lengths and sampled requests: same with overlap; processing overlaps the next evaluate")
    func mixedWorkload() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try PoolModelTests.questions.map { try PoolModelTests.prompt(model, $0) }
        let probe = try PoolModelTests.unbatched(model, [prompts[3]], maxTokens: 24)[0].text
        let stop = try #require(Self.middleStop(probe), "no word in \(probe.debugDescription)")
        var temperature = SamplingParameters()
        temperature.temperature = 0.7
        temperature.topK = 0
        temperature.topP = 1
        temperature.minP = 0
        temperature.seed = 7
        var penalized = SamplingParameters()
        penalized.topK = 20
        penalized.repetitionPenalty = 1.2
        penalized.seed = 3
        var requests = [
            Self.request(prompts[1], maxTokens: 12, agent: "max"),
            Self.request(prompts[3], maxTokens: 24, agent: "stop", stop: [stop]),
            Self.request(prompts[5], maxTokens: 48, agent: "eos"),
        ]
        for (index, length) in [3, 5, 7, 9, 11, 13].enumerated() {
            requests.append(Self.request(prompts[(index + 1) % prompts.count], maxTokens: length, agent: "len\(length)"))
        }
        requests.append(Self.request(prompts[2], maxTokens: 10, agent: "temperature", sampling: temperature))
        requests.append(Self.request(prompts[5], maxTokens: 12, agent: "penalized", sampling: penalized))
        let run = try Self.both(model, requests, heldStep: 3)
        Self.expectSame(run.off, run.on)
        #expect(run.off[0].finishReason == .length && run.off[0].usage?.completionTokens == 12)
        #expect(run.off[1].finishReason == .stop && run.off[1].stopString == stop, "\(run.off[1])")
        #expect((run.off[1].usage?.completionTokens ?? 24) < 24, "the stop string came mid-generation")
        #expect(run.off[2].finishReason == .stop && run.off[2].stopString == nil, "ended by EOS: \(run.off[2])")
        #expect((run.off[2].usage?.completionTokens ?? 48) < 48)
        for (index, length) in [3, 5, 7, 9, 11, 13].enumerated() {
            #expect(run.off[3 + index].usage?.completionTokens == length)
        }
        // Overlap off: the processor never ran. On: step 3's processing ran while step 4 was evaluated.
        #expect(!run.offLog.events.contains { if case .processBegan = $0 { return true } else { return false } })
        #expect(!run.onLog.timedOut, "the processing of step 3 and evaluate 4 waited on each other: not concurrent")
        #expect(run.onLog.overlappedSteps.contains(3), "\(run.onLog.events)")
        let evaluations = run.onLog.events.filter { if case .evaluateBegan = $0 { return true } else { return false } }.count
        print("overlap: the processing of \(run.onLog.overlappedSteps.count) steps overlapped the next of \(evaluations) evaluations")
    }

    @Test("a request cancelled mid-stream fails .cancelled with overlap too; the others are unchanged")
    func cancellationMidStream() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try PoolModelTests.questions.map { try PoolModelTests.prompt(model, $0) }
        let story = try PoolModelTests.prompt(model, "Tell me a long story about a lighthouse.")
        var requests = [Self.request(story, maxTokens: 300, agent: "cancelled")]
        for (index, length) in [6, 10, 14, 18].enumerated() {
            requests.append(Self.request(prompts[index], maxTokens: length, agent: "a\(index)"))
        }
        let run = try Self.both(model, requests, cancelAfterText: 0)
        #expect(run.off[0].error == .cancelled)
        #expect(run.on[0].error == .cancelled)
        #expect(!run.on[0].streamed.isEmpty)
        Self.expectSame(Array(run.off.dropFirst()), Array(run.on.dropFirst()))
    }

    @Test("a shared system prompt: same cache hits, texts and usage with overlap")
    func sharedPrefix() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try PoolModelTests.sharedSystemPromptCase(model)
        var outcomes: [[Outcome]] = []
        for overlap in [false, true] {
            let log = StepLog()
            let gate = StartGate()
            let pool = Self.pool(model, overlap: overlap, log: log, gate: gate)
            defer { pool.shutdown() }
            // The first computes the prefix alone; the rest, batched, find it cached.
            var all = try OverlapRun.outcomes(pool, gate: gate, [Self.request(prompts[0], maxTokens: 10, agent: "first")])
            all += try OverlapRun.outcomes(pool, gate: gate, prompts.dropFirst().enumerated().map {
                Self.request($1, maxTokens: 8 + 3 * $0, agent: "rest\($0)")
            })
            for outcome in all.dropFirst() { #expect((outcome.usage?.cachedPromptTokens ?? 0) >= 32, "\(overlap)") }
            #expect(PoolFixture.eventually { pool.metrics().kvBlocksUsed == 0 })
            outcomes.append(all)
        }
        Self.expectSame(outcomes[0], outcomes[1])
    }

    @Test("preempted sequences (small KV memory) resume with the same output when overlapped")
    func preemptionOverlapped() throws {
        let model = try LoadedModelFixture.model()
        let (prompts, expected, kvMemoryBytes) = try PoolModelTests.preemptionCase(model)
        let log = StepLog()
        let gate = StartGate()
        let pool = Self.pool(model, overlap: true, log: log, gate: gate, kvMemoryBytes: kvMemoryBytes)
        defer { pool.shutdown() }
        let outcomes = try OverlapRun.outcomes(pool, gate: gate, prompts.enumerated().map { Self.request($1, maxTokens: 24, agent: "p\($0)") })
        for (outcome, reference) in zip(outcomes, expected) {
            #expect(outcome.tokens == reference.tokens)
            #expect(outcome.text == reference.text && outcome.streamed == reference.text)
            #expect(outcome.usage?.completionTokens == reference.tokens.count)
        }
        #expect(pool.metrics().preemptions > 0)
        #expect(PoolFixture.eventually { pool.metrics().kvBlocksUsed == 0 })
    }
}
