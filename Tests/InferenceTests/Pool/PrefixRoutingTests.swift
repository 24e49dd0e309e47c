import Testing
@testable import Inference

/// Two schedulers over one shared queue, stepped by hand on the test thread (no worker threads), so
/// which worker admits what is exact.
@Suite("Pool: prefix-aware routing between workers")
struct PrefixRoutingTests {
    final class Tag {}

    @Test("a busy worker leaves a request to the worker holding its prefix; an idle one takes it anyway")
    func routesToPrefixHolder() throws {
        let tokenizer = try TextFixture.tokenizer()
        let letters = PoolFixture.letters(tokenizer)
        var configuration = PoolConfiguration()
        configuration.blockSize = 4
        let core = PoolCore(configuration: configuration, tokenizer: tokenizer, placement: .cpu) { _, _, _ throws(InferenceError) in
            throw InferenceError(.unavailable, "workers are made by the test")
        }
        let tagA = Tag(), tagB = Tag()
        let a = Scheduler(core: core, backend: PagedTestBackend(blockSize: 4, blockCount: 64, alphabet: letters), workerID: ObjectIdentifier(tagA), device: .cpu)
        let b = Scheduler(core: core, backend: PagedTestBackend(blockSize: 4, blockCount: 64, alphabet: letters), workerID: ObjectIdentifier(tagB), device: .cpu)
        var nextID: UInt64 = 0
        func submit(_ prompt: [Int32], maxTokens: Int) throws -> PoolJob {
            nextID += 1
            let generation = GenerationRequest(prompt: prompt, maxTokens: maxTokens)
            let job = PoolJob(id: nextID, request: PoolRequest(agent: "agent\(nextID)", generation: generation),
                              state: try GenerationState(generation, tokenizer: tokenizer), now: .now)
            try core.enqueue(job)
            return job
        }
        let system = PoolFixture.prompt(12, seed: 5, tokenizer)
        // Worker A computes the system prompt; B is busy with something unrelated; both publish.
        let warm = try submit(system + [letters[1]], maxTokens: 1)
        a.step()
        #expect(warm.channel.hasEnded)
        _ = try submit(PoolFixture.prompt(9, seed: 6, tokenizer), maxTokens: 50)
        b.step()
        a.step()
        #expect(b.running.count == 1 && a.running.isEmpty)
        // B is busy and does not hold the prefix: it leaves the request for A.
        let routed = try submit(system + [letters[2], letters[3]], maxTokens: 3)
        b.step()
        #expect(b.running.count == 1 && core.queue.count == 1)
        while !routed.channel.hasEnded && a.running.count + core.queue.count > 0 { a.step() }
        let completion = try #require(routed.channel.next(timeout: .seconds(1)).flatMap { event -> PoolCompletion? in
            if case .text = event { return routed.channel.next(timeout: .seconds(1))?.completion }
            return event.completion
        })
        #expect(completion.usage.cachedPromptTokens == 12)
        // Once B runs nothing, it takes such a request itself rather than leave it waiting.
        for _ in 0..<60 where !b.running.isEmpty { b.step() }
        #expect(b.running.isEmpty)
        let taken = try submit(system + [letters[4], letters[5]], maxTokens: 2)
        b.step()
        #expect(core.queue.isEmpty && (b.running.count == 1 || taken.channel.hasEnded), "an idle worker takes it")
        #expect(taken.cachedPromptTokens == 0)
    }
}
