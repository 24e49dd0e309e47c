import Foundation
import Testing
@testable import Inference

/// The pool over the real model (SmolLM2 on the paged CPU backend): batched, preempted and
/// prefix-shared generations equal the unbatched ``Generator``'s token for token (greedy).
@Suite("Pool on SmolLM2: batched equals unbatched", .serialized)
struct PoolModelTests {
    static let questions = [
        "What is the capital of France?",
        "Write a haiku about the sea.",
        "List three prime numbers.",
        "Why is the sky blue?",
        "Say hello in Spanish.",
        "What is 12 times 12?",
    ]

    static func prompt(_ model: LoadedModel, _ question: String, system: String? = nil) throws -> [Int32] {
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        messages.append(ChatMessage(role: "user", content: question))
        return try model.promptTokens(for: messages)
    }

    /// What one sequence alone on its own backend generates.
    static func unbatched(_ model: LoadedModel, _ prompts: [[Int32]], maxTokens: Int) throws -> [GenerationResult] {
        let generator = Generator(backend: try model.makeBackend(kvMemoryBytes: 16 << 20, blockSize: 16, threads: 2),
                                  tokenizer: model.tokenizer)
        return try prompts.map { try generator.generate(GenerationRequest(prompt: $0, maxTokens: maxTokens)) }
    }

    static func pool(_ model: LoadedModel, kvMemoryBytes: Int, maxRunning: Int = 8) -> InferencePool {
        var configuration = PoolConfiguration()
        configuration.kvMemoryBytes = kvMemoryBytes
        configuration.blockSize = 16
        configuration.maxRunningSequences = maxRunning
        return InferencePool(configuration: configuration, tokenizer: model.tokenizer) { kv, blockSize throws(InferenceError) in
            try model.makeBackend(kvMemoryBytes: kv, blockSize: blockSize, threads: 2)
        }
    }

    static func run(_ pool: InferencePool, _ prompts: [[Int32]], maxTokens: Int) throws -> [PoolCompletion] {
        let tickets = try prompts.enumerated().map { index, prompt in
            try pool.submit(PoolRequest(agent: "agent\(index)", generation: GenerationRequest(prompt: prompt, maxTokens: maxTokens)))
        }
        return try tickets.map { ticket in
            let (text, end) = PoolFixture.drain(ticket)
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.text == text)
            return completion
        }
    }

    @Test("six different prompts batched through the pool equal unbatched generations token for token")
    func batchedEqualsUnbatched() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try Self.questions.map { try Self.prompt(model, $0) }
        let expected = try Self.unbatched(model, prompts, maxTokens: 16)
        let pool = Self.pool(model, kvMemoryBytes: 32 << 20)
        defer { pool.shutdown() }
        let completions = try Self.run(pool, prompts, maxTokens: 16)
        for (completion, reference) in zip(completions, expected) {
            #expect(completion.result.tokens == reference.tokens)
            #expect(completion.result.text == reference.text)
            #expect(completion.usage.completionTokens == reference.tokens.count)
        }
        let metrics = pool.metrics()
        #expect(metrics.meanBatchSize > 1, "sequences ran batched")
        print("pool on SmolLM2: \(metrics.steps) steps, mean batch \(metrics.meanBatchSize), scheduler/model time \(metrics.schedulerOverhead)")
    }

    @Test("a preempted sequence (small KV memory) resumes with the same output")
    func preemptedResumes() throws {
        let model = try LoadedModelFixture.model()
        let (prompts, expected, kvMemoryBytes) = try Self.preemptionCase(model)
        let pool = Self.pool(model, kvMemoryBytes: kvMemoryBytes)
        defer { pool.shutdown() }
        let completions = try Self.run(pool, prompts, maxTokens: 24)
        for (completion, reference) in zip(completions, expected) {
            #expect(completion.result.tokens == reference.tokens)
        }
        #expect(completions.reduce(0) { $0 + $1.preemptions } > 0)
        #expect(pool.metrics().preemptions > 0)
    }

    /// Three questions, their unbatched outputs (24 tokens), and a KV memory with room for about two
    /// of the three sequences at their longest: the third must be preempted and recomputed.
    static func preemptionCase(_ model: LoadedModel) throws -> (prompts: [[Int32]], expected: [GenerationResult], kvMemoryBytes: Int) {
        let perBlock = try model.makeBackend(kvMemoryBytes: 4 << 20, blockSize: 16, threads: 1).kvLayout.bytesPerBlock
        let prompts = try questions.prefix(3).map { try prompt(model, $0) }
        let expected = try unbatched(model, prompts, maxTokens: 24)
        let longest = prompts.map { $0.count + 24 }.max() ?? 0
        return (prompts, expected, perBlock * (2 * ((longest + 15) / 16) + 1))
    }

    /// Four questions behind one system prompt, as agents of one deployment send them.
    static func sharedSystemPromptCase(_ model: LoadedModel) throws -> [[Int32]] {
        let system = """
            You are a careful assistant for a sandboxed agent runtime. Answer briefly and precisely, never \
            invent facts, and say so when you do not know. Prefer short sentences and plain words.
            """
        return try questions.prefix(4).map { try prompt(model, $0, system: system) }
    }

    @Test("a shared system prompt is computed once: cachedPromptTokens > 0, outputs identical")
    func sharedSystemPrompt() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try Self.sharedSystemPromptCase(model)
        let expected = try Self.unbatched(model, prompts, maxTokens: 12)
        let pool = Self.pool(model, kvMemoryBytes: 32 << 20)
        defer { pool.shutdown() }
        let first = try Self.run(pool, [prompts[0]], maxTokens: 12)
        #expect(first.first?.result.tokens == expected[0].tokens)
        let rest = try Self.run(pool, Array(prompts.dropFirst()), maxTokens: 12)
        for (completion, reference) in zip(rest, expected.dropFirst()) {
            #expect(completion.result.tokens == reference.tokens)
            #expect(completion.usage.cachedPromptTokens >= 32, "at least two blocks of the system prompt")
            #expect(completion.usage.cachedPromptTokens % 16 == 0)
        }
        #expect(pool.metrics().prefixHitTokens == rest.reduce(0) { $0 + $1.usage.cachedPromptTokens })
    }

    @Test("a cancelled request frees its blocks")
    func cancelFreesBlocks() throws {
        let model = try LoadedModelFixture.model()
        let pool = Self.pool(model, kvMemoryBytes: 32 << 20)
        defer { pool.shutdown() }
        let ticket = try pool.submit(PoolRequest(agent: "a", generation: GenerationRequest(
            prompt: try Self.prompt(model, "Tell me a long story about a lighthouse."), maxTokens: 400)))
        // Wait for some text, so the request is running and holds blocks.
        var sawText = false
        while let event = ticket.next(timeout: .seconds(120)) {
            if case .text = event { sawText = true; break }
            Issue.record("ended before any text: \(event)")
            break
        }
        #expect(sawText)
        ticket.cancel()
        #expect(PoolFixture.drain(ticket).end?.error?.code == .cancelled)
        #expect(PoolFixture.eventually { pool.metrics().kvBlocksUsed == 0 })
    }
}
