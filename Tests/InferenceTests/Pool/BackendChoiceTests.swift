import Foundation
import Testing
@testable import Inference

/// A backend that picks tokens itself, as the GPU backend does: it counts the calls that asked it to
/// choose and the entries it chose for.
final class ChoosingTestBackend: InferenceBackend, @unchecked Sendable {
    let inner: PagedTestBackend
    private let lock = NSLock()
    private var choosingCalls = 0
    private var chosen: [TokenChoice] = []

    init(_ inner: PagedTestBackend) { self.inner = inner }

    var config: ModelConfig { inner.config }
    var name: String { "choosing-test" }
    var kvLayout: KVLayout { inner.kvLayout }

    func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] { try inner.evaluate(batch) }

    func evaluate(_ batch: [BatchEntry], choosing choices: [TokenChoice]) throws(InferenceError) -> [Int32] {
        lock.lock()
        choosingCalls += 1
        chosen += choices
        lock.unlock()
        return zip(try inner.evaluate(batch), choices).map { $1.pick($0) }
    }

    /// Calls that asked the backend to choose, and every choice asked for.
    var choices: (calls: Int, choices: [TokenChoice]) {
        lock.lock()
        defer { lock.unlock() }
        return (choosingCalls, chosen)
    }
}

@Suite("Pool: the backend picks tokens for plain samplers (evaluate(_:choosing:))")
struct BackendChoiceTests {
    /// A one-worker pool over a choosing test backend.
    static func pool(_ tokenizer: Tokenizer, _ letters: [Int32]) -> (InferencePool, () -> ChoosingTestBackend?) {
        let made = NSLock()
        nonisolated(unsafe) var backend: ChoosingTestBackend?
        var configuration = PoolConfiguration()
        configuration.blockSize = 4
        configuration.kvMemoryBytes = 256 * 1024
        configuration.maxBatchTokens = 256
        let pool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: .cpu) { _, kv, block in
            let made1 = ChoosingTestBackend(PagedTestBackend(blockSize: block, blockCount: kv / 1024, alphabet: letters))
            made.lock(); backend = made1; made.unlock()
            return made1
        }
        return (pool, { made.lock(); defer { made.unlock() }; return backend })
    }

    @Test("greedy requests are chosen by the backend, through `any InferenceBackend`, with the same tokens")
    func greedyChosenByBackend() throws {
        let tokenizer = try TextFixture.tokenizer()
        let letters = PoolFixture.letters(tokenizer)
        let (pool, backend) = Self.pool(tokenizer, letters)
        defer { pool.shutdown() }
        let prompts = (0..<4).map { PoolFixture.prompt(7, seed: 40 + $0, tokenizer) }
        let tickets = try prompts.map { try pool.submit(PoolRequest(agent: "a", generation: GenerationRequest(prompt: $0, maxTokens: 9))) }
        for (ticket, prompt) in zip(tickets, prompts) {
            let completion = try #require(PoolFixture.drain(ticket).end?.completion)
            #expect(completion.result.tokens == PagedTestBackend.reference(prompt, maxTokens: 9, alphabet: letters))
        }
        let seen = try #require(backend()).choices
        #expect(seen.calls > 0 && seen.choices.allSatisfy { $0 == .greedy })
        // A step's metrics are recorded after its tokens reach the tickets.
        #expect(PoolFixture.eventually { pool.metrics().tokensChosenByBackend == 4 * 9 }, "\(pool.metrics().tokensChosenByBackend)")
    }

    @Test("a sampler with top-k, top-p, min-p or a penalty gets logits, never a backend choice")
    func filteredSamplersGetLogits() throws {
        let tokenizer = try TextFixture.tokenizer()
        let letters = PoolFixture.letters(tokenizer)
        let (pool, backend) = Self.pool(tokenizer, letters)
        defer { pool.shutdown() }
        var filtered = SamplingParameters()  // llama.cpp's defaults: top-k 40, top-p 0.95, min-p 0.05
        filtered.seed = 3
        var penalized = SamplingParameters.greedy
        penalized.repetitionPenalty = 1.1
        for sampling in [filtered, penalized] {
            let prompt = PoolFixture.prompt(6, seed: 9, tokenizer)
            let ticket = try pool.submit(PoolRequest(agent: "a", generation: GenerationRequest(prompt: prompt, maxTokens: 5, sampling: sampling)))
            #expect(PoolFixture.drain(ticket).end?.completion?.usage.completionTokens == 5)
        }
        #expect(PoolFixture.eventually { pool.metrics().generatedTokens == 10 })
        #expect(try #require(backend()).choices.calls == 0)
        #expect(pool.metrics().tokensChosenByBackend == 0)
    }

    @Test("isPlain: greedy or temperature alone; any filter or penalty needs the row on the host")
    func plainSamplers() throws {
        var temperatureOnly = SamplingParameters()
        temperatureOnly.topK = 0; temperatureOnly.topP = 1; temperatureOnly.minP = 0
        var topK = temperatureOnly; topK.topK = 5
        var topP = temperatureOnly; topP.topP = 0.9
        var minP = temperatureOnly; minP.minP = 0.1
        var presence = SamplingParameters.greedy; presence.presencePenalty = 0.5
        var windowOff = presence; windowOff.penaltyWindow = 0
        let cases: [(SamplingParameters, Bool)] = [
            (.greedy, true), (temperatureOnly, true), (topK, false), (topP, false), (minP, false),
            (SamplingParameters(), false), (presence, false), (windowOff, true),
        ]
        for (parameters, plain) in cases {
            #expect(try Sampler(parameters).isPlain == plain, "\(parameters)")
        }
        var greedy = try Sampler(.greedy)
        #expect(greedy.nextChoice() == .greedy)
        var filtered = try Sampler(SamplingParameters())
        #expect(filtered.nextChoice() == nil)
    }

    @Test("a temperature-only draw made from nextChoice() picks what the host sampler picks, seed for seed")
    func sampledChoiceMatchesHost() throws {
        var parameters = SamplingParameters()
        parameters.topK = 0; parameters.topP = 1; parameters.minP = 0; parameters.temperature = 0.7
        var generator = Xoshiro256StarStar(seed: 99)
        var logits = (0..<512).map { _ in Float(generator.nextUnit() * 12 - 6) }
        logits[17] = -.infinity
        var agreed = 0
        for seed in UInt64(0)..<64 {
            parameters.seed = seed
            var host = try Sampler(parameters), device = try Sampler(parameters)
            for _ in 0..<8 {
                let expected = host.sample(logits)
                let next = device.nextChoice()
                let choice = try #require(next)
                if choice.pick(logits) == expected { agreed += 1 }
            }
        }
        // Float against Double arithmetic may split a draw that lands within rounding of a boundary;
        // with these logits none does.
        #expect(agreed == 64 * 8)
    }

    @Test("on SmolLM2 the pool's greedy tokens, chosen through evaluate(_:choosing:), equal the Generator's")
    func realModelGreedy() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try ["Name a colour.", "Count to three."].map { try PoolModelTests.prompt(model, $0) }
        let expected = try PoolModelTests.unbatched(model, prompts, maxTokens: 8)
        let pool = PoolModelTests.pool(model, kvMemoryBytes: 16 << 20)
        defer { pool.shutdown() }
        let completions = try PoolModelTests.run(pool, prompts, maxTokens: 8)
        #expect(completions.map(\.result.tokens) == expected.map(\.tokens))
        let generated = completions.reduce(0) { $0 + $1.usage.completionTokens }
        #expect(PoolFixture.eventually { pool.metrics().tokensChosenByBackend == generated }, "\(pool.metrics().tokensChosenByBackend)")
    }
}
