import Foundation
import Testing
@testable import Inference

/// Overlapped output processing on the paged test backend (which stores what the pool writes through
/// each block table and answers from what it reads back): the extra step of a finished sequence,
/// failures, cancellation, deadlines, preemption and the prefix cache.
@Suite("Pool with overlapped output processing: step boundaries, failures, preemption, prefix cache")
struct PoolOverlapPagedTests {
    @Test("a finished sequence was already in the next step: its extra token is discarded, its blocks freed after it")
    func extraStepDiscarded() throws {
        for overlap in [false, true] {
            let harness = try PoolHarness(overlap: overlap)
            defer { harness.pool.shutdown() }
            let prompt = harness.prompt(6, seed: 1)
            let (text, end) = PoolFixture.drain(try harness.pool.submit(harness.request("a", prompt: prompt, maxTokens: 3)))
            let completion = try #require(end?.completion)
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 3))
            #expect(completion.usage.completionTokens == 3 && completion.result.text == text)
            // The blocks come back after the step that ran the extra token (the ticket may end before it runs).
            #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
            let steps = try harness.factory.first().recordedSteps
            // Prefill, two decodes; with overlap one more decode (of the last token) ran before the
            // processing of the step before found the sequence finished.
            #expect(steps.count == (overlap ? 4 : 3), "overlap \(overlap)")
            #expect(PoolFixture.eventually { harness.pool.metrics().generatedTokens == 3 })
        }
    }

    @Test("many requests of different lengths equal their references; a backend failure fails only its request")
    func failuresStayLocal() throws {
        let tokenizer = try TextFixture.tokenizer()
        let failToken = tokenizer.byteTokens[Int(UInt8(ascii: "#"))]
        let harness = try PoolHarness(maxBatchTokens: 32, maxRunning: 6, failToken: failToken, overlap: true)
        defer { harness.pool.shutdown() }
        let prompts = (0..<10).map { harness.prompt(5 + $0, seed: $0 + 1) }
        var tickets = try prompts.enumerated().map { index, prompt in
            try harness.pool.submit(harness.request("agent\(index % 3)", prompt: prompt, maxTokens: 2 + 3 * index))
        }
        tickets.append(try harness.pool.submit(harness.request("bad", prompt: harness.prompt(4, seed: 99) + [failToken])))
        for (index, ticket) in tickets.enumerated() {
            let (text, end) = PoolFixture.drain(ticket)
            if index == prompts.count {
                #expect(end?.error?.code == .invalidArgument)
                continue
            }
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.tokens == harness.reference(prompts[index], maxTokens: 2 + 3 * index))
            #expect(completion.result.text == text)
        }
        let expected = (0..<10).reduce(0) { $0 + 2 + 3 * $1 }
        #expect(PoolFixture.eventually { harness.pool.metrics().generatedTokens == expected })
        #expect(harness.pool.metrics().failures == 1)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
    }

    @Test("a cancelled running request ends at the next step boundary, as without overlap")
    func cancelAtBoundary() throws {
        let harness = try PoolHarness(gated: true, overlap: true)
        defer { harness.pool.shutdown() }
        let ticket = try harness.pool.submit(harness.request("a", prompt: harness.prompt(9, seed: 1), maxTokens: 100))
        let backend = try harness.factory.first()
        #expect(backend.waitUntilBlocked())
        backend.release()
        #expect(backend.waitUntilBlocked())
        ticket.cancel()
        backend.release()
        let (text, end) = PoolFixture.drain(ticket)
        #expect(end?.error?.code == .cancelled)
        #expect(text.count == 2, "the tokens of both steps that ran were streamed")
        #expect(backend.recordedSteps.count == 2, "no step ran after the one in flight")
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
        #expect(harness.pool.metrics().cancellations == 1)
    }

    @Test("a running request past its deadline fails with deadlineExceeded")
    func deadline() throws {
        let harness = try PoolHarness(gated: true, overlap: true)
        defer { harness.pool.shutdown() }
        let backend = try harness.factory.first()
        let deadline = ContinuousClock.now + .seconds(1)
        let running = try harness.pool.submit(harness.request("a", prompt: harness.prompt(5, seed: 1), maxTokens: 100, deadline: deadline))
        #expect(backend.waitUntilBlocked())
        #expect(PoolFixture.eventually { ContinuousClock.now >= deadline })
        backend.release()
        backend.release()
        #expect(PoolFixture.drain(running).end?.error?.code == .deadlineExceeded)
        #expect(harness.pool.metrics().deadlineMisses == 1)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
    }

    @Test("a sequence the whole arena cannot hold ends with length where it ends without overlap")
    func arenaFullAlone() throws {
        var completions: [PoolCompletion] = []
        for overlap in [false, true] {
            let harness = try PoolHarness(blockSize: 4, blocks: 4, overlap: overlap)
            defer { harness.pool.shutdown() }
            let prompt = harness.prompt(10, seed: 3)
            let (text, end) = PoolFixture.drain(try harness.pool.submit(harness.request("a", prompt: prompt, maxTokens: 20)))
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.finishReason == .length && completion.result.text == text)
            #expect(completion.result.tokens == Array(harness.reference(prompt, maxTokens: 20).prefix(completion.result.tokens.count)))
            #expect(completion.usage.completionTokens < 20)
            #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
            completions.append(completion)
        }
        #expect(completions[0].result == completions[1].result && completions[0].usage == completions[1].usage)
    }

    @Test("a sampled sequence preempted on an overlapping worker continues its random stream (its sampler goes back to the job)")
    func sampledPreemptionKeepsStream() throws {
        var runs: [[[Int32]]] = []
        var preemptions: [Int] = []
        var letters: [Int32] = []
        for blocks in [256, 20] {
            let harness = try PoolHarness(blockSize: 4, blocks: blocks, maxBatchTokens: 32, maxRunning: 6, startAllowed: false,
                                          prefixCaching: false, overlap: true)
            defer { harness.pool.shutdown() }
            // Hot and wide, so a draw often leaves the backend's letter for another of the top 40 (the
            // backend's logits are one-hot): each token depends on the sampler's random stream.
            var sampling = SamplingParameters()
            sampling.temperature = 4
            sampling.topP = 1
            sampling.minP = 0
            let tickets = try (0..<6).map { index in
                sampling.seed = UInt64(40 + index)
                return try harness.pool.submit(PoolRequest(agent: "agent\(index)", generation: GenerationRequest(
                    prompt: harness.prompt(6 + index, seed: index + 1), maxTokens: 14, sampling: sampling, ignoresEndOfGeneration: true)))
            }
            harness.factory.allowStart()
            runs.append(try tickets.map { try #require(PoolFixture.drain($0).end?.completion?.result.tokens) })
            letters = harness.letters
            preemptions.append(harness.pool.metrics().preemptions)
        }
        #expect(preemptions[0] == 0 && preemptions[1] > 0, "\(preemptions)")
        #expect(runs[0] == runs[1])
        #expect(runs[0].joined().contains { !letters.contains($0) }, "some draws left the backend's choice")
    }

    @Test("preemption (recompute) with shared prefixes: every output equals its reference, blocks all come back")
    func preemptionAndPrefixCache() throws {
        // Everything is queued before the first step: six start at once, two later find the prefix cached.
        let harness = try PoolHarness(blockSize: 4, blocks: 24, maxBatchTokens: 32, maxRunning: 6, startAllowed: false, overlap: true)
        defer { harness.pool.shutdown() }
        let shared = harness.prompt(9, seed: 5)
        let prompts = (0..<8).map { shared + harness.prompt(2 + $0 % 3, seed: 20 + $0) }
        let tickets = try prompts.enumerated().map { index, prompt in
            try harness.pool.submit(harness.request("agent\(index)", prompt: prompt, maxTokens: 10 + index))
        }
        harness.factory.allowStart()
        var cached = 0
        for (index, ticket) in tickets.enumerated() {
            let (text, end) = PoolFixture.drain(ticket)
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.tokens == harness.reference(prompts[index], maxTokens: 10 + index))
            #expect(completion.result.text == text)
            #expect(completion.usage.completionTokens == 10 + index)
            cached += completion.usage.cachedPromptTokens
        }
        let metrics = harness.pool.metrics()
        #expect(metrics.preemptions > 0)
        #expect(cached > 0 && metrics.prefixHitTokens == cached)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
        #expect(PoolFixture.eventually { harness.pool.metrics().generatedTokens == (0..<8).reduce(0) { $0 + 10 + $1 } })
    }
}
