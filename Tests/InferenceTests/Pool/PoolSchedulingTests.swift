import Foundation
import Testing
@testable import Inference

@Suite("Pool: batching, fairness, priorities, preemption, prefix sharing, chunked prefill")
struct PoolSchedulingTests {
    @Test("batched results equal unbatched ones token for token")
    func batchedEqualsReference() throws {
        let harness = try PoolHarness(maxBatchTokens: 256, startAllowed: false)
        defer { harness.pool.shutdown() }
        let prompts = (0..<6).map { harness.prompt(5 + 5 * $0, seed: $0 + 1) }
        let tickets = try prompts.enumerated().map { index, prompt in
            try harness.pool.submit(harness.request("agent\(index)", prompt: prompt, maxTokens: 12))
        }
        harness.factory.allowStart()
        for (ticket, prompt) in zip(tickets, prompts) {
            let (text, end) = PoolFixture.drain(ticket)
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 12))
            #expect(completion.result.text == text)
            #expect(completion.usage == PoolUsage(promptTokens: prompt.count, cachedPromptTokens: 0, completionTokens: 12))
        }
        let steps = try harness.factory.first().recordedSteps
        #expect(steps.first?.count == 6, "all six run in one batch")
        #expect(harness.pool.metrics().completions == 6)
    }

    @Test("a noisy agent with 10x the requests: each quiet agent is served within the first rounds")
    func fairnessThroughPool() throws {
        let harness = try PoolHarness(maxRunning: 1, startAllowed: false)
        defer { harness.pool.shutdown() }
        var prompts: [[Int32]] = []
        var agents: [String] = []
        var tickets: [PoolTicket] = []
        func add(_ agent: String) throws {
            let prompt = harness.prompt(6, seed: prompts.count + 1)
            prompts.append(prompt)
            agents.append(agent)
            tickets.append(try harness.pool.submit(harness.request(agent, prompt: prompt, maxTokens: 4)))
        }
        for _ in 0..<20 { try add("noisy") }
        for _ in 0..<2 { for quiet in ["quiet1", "quiet2"] { try add(quiet) } }
        harness.factory.allowStart()
        for ticket in tickets { #expect(PoolFixture.drain(ticket).end?.completion != nil) }
        let order = PoolHarness.admissionOrder(try harness.factory.first().recordedSteps, prompts: prompts)
        #expect(order.count == prompts.count)
        // Three agents with equal-cost requests take turns: the quiet agents' four requests run
        // within the first six admissions, not after the noisy agent's twenty.
        let quietPositions = order.enumerated().filter { agents[$0.element] != "noisy" }.map(\.offset)
        #expect(quietPositions.max() ?? 99 < 6, "admission order \(order.map { agents[$0] })")
    }

    @Test("interactive requests run before batch ones that waited longer")
    func priorities() throws {
        let harness = try PoolHarness(maxRunning: 1, startAllowed: false)
        defer { harness.pool.shutdown() }
        let prompts = (0..<6).map { harness.prompt(5, seed: $0 + 1) }
        let tickets = try prompts.enumerated().map { index, prompt in
            try harness.pool.submit(harness.request("agent\(index % 2)", prompt: prompt, maxTokens: 3,
                                                    priority: index < 3 ? .batch : .interactive))
        }
        harness.factory.allowStart()
        for ticket in tickets { #expect(PoolFixture.drain(ticket).end?.completion != nil) }
        let order = PoolHarness.admissionOrder(try harness.factory.first().recordedSteps, prompts: prompts)
        #expect(Set(order.prefix(3)) == [3, 4, 5])
        #expect(Set(order.suffix(3)) == [0, 1, 2])
    }

    @Test("a tiny arena preempts sequences, and they resume with exactly the unpreempted output")
    func preemption() throws {
        // Ten blocks of four positions: three sequences of 6 + 14 tokens need 15 at their longest.
        let harness = try PoolHarness(blocks: 10, startAllowed: false)
        defer { harness.pool.shutdown() }
        let prompts = (0..<3).map { harness.prompt(6, seed: $0 + 3) }
        let tickets = try prompts.map { try harness.pool.submit(harness.request("a", prompt: $0, maxTokens: 14)) }
        harness.factory.allowStart()
        var preemptions = 0
        for (ticket, prompt) in zip(tickets, prompts) {
            let (text, end) = PoolFixture.drain(ticket)
            let completion = try #require(end?.completion, "\(String(describing: end))")
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 14))
            #expect(text == completion.result.text)
            #expect(completion.usage.completionTokens == 14)
            preemptions += completion.preemptions
        }
        #expect(preemptions > 0)
        #expect(harness.pool.metrics().preemptions == preemptions)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
    }

    @Test("a shared prefix is computed once: blocks shared, cachedPromptTokens exact, outputs unchanged")
    func prefixSharing() throws {
        let harness = try PoolHarness(startAllowed: true)
        defer { harness.pool.shutdown() }
        let system = harness.prompt(18, seed: 7)  // four full blocks of 4, and 2 tokens more
        let first = system + harness.prompt(3, seed: 1)
        let firstEnd = PoolFixture.drain(try harness.pool.submit(harness.request("a", prompt: first, maxTokens: 5))).end
        #expect(firstEnd?.completion?.usage.cachedPromptTokens == 0)
        let backend = try harness.factory.first()
        let before = backend.recordedSteps.count
        // Three more with the same system prompt: each finds its first four blocks cached.
        let prompts = (2..<5).map { system + harness.prompt(3, seed: $0) }
        let tickets = try prompts.enumerated().map { index, prompt in
            try harness.pool.submit(harness.request("agent\(index)", prompt: prompt, maxTokens: 5))
        }
        for (ticket, prompt) in zip(tickets, prompts) {
            let completion = try #require(PoolFixture.drain(ticket).end?.completion)
            #expect(completion.usage.cachedPromptTokens == 16)
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 5))
        }
        let later = Array(backend.recordedSteps.dropFirst(before))
        // No later step recomputes the cached positions.
        #expect(later.allSatisfy { $0.allSatisfy { $0.start >= 16 } })
        let firstTables = later.flatMap { $0 }.filter { $0.start == 16 }.map { Array($0.blocks.prefix(4)) }
        #expect(firstTables.count == 3 && Set(firstTables).count == 1, "all three read the same cached blocks")
        #expect(harness.pool.metrics().prefixHitTokens == 48)
    }

    @Test("with sequences admitted together, blocks are shared while they run")
    func sharedWhileRunning() throws {
        let harness = try PoolHarness(startAllowed: true, gated: true)
        defer { harness.pool.shutdown() }
        let system = harness.prompt(16, seed: 9)
        let warm = try harness.pool.submit(harness.request("a", prompt: system + [harness.letters[0]], maxTokens: 1))
        let backend = try harness.factory.first()
        backend.release()
        #expect(PoolFixture.drain(warm).end?.completion != nil)
        let prompts = (0..<3).map { system + harness.prompt(2, seed: $0 + 1) }
        let tickets = try prompts.enumerated().map { try harness.pool.submit(harness.request("b\($0)", prompt: $1, maxTokens: 20)) }
        // Step by step until a step ran with all three (metrics are published after each step).
        var metrics = PoolMetrics()
        for _ in 0..<10 {
            #expect(backend.waitUntilBlocked())
            metrics = harness.pool.metrics()
            if metrics.runningSequences == 3 { break }
            backend.release()
        }
        #expect(metrics.runningSequences == 3)
        #expect(metrics.kvBlocksShared == 4, "the four system-prompt blocks, held by three sequences")
        backend.openGate()
        for (ticket, prompt) in zip(tickets, prompts) {
            let completion = try #require(PoolFixture.drain(ticket).end?.completion)
            #expect(completion.usage.cachedPromptTokens == 16)
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 20))
        }
    }

    @Test("a long prompt is prefilled in chunks while running sequences keep decoding every step")
    func chunkedPrefill() throws {
        let harness = try PoolHarness(maxBatchTokens: 8, gated: true)
        defer { harness.pool.shutdown() }
        let short = harness.prompt(3, seed: 1), long = harness.prompt(40, seed: 2)
        let shortTicket = try harness.pool.submit(harness.request("a", prompt: short, maxTokens: 30))
        let backend = try harness.factory.first()
        #expect(backend.waitUntilBlocked())
        backend.release()  // the short prompt's prefill
        #expect(backend.waitUntilBlocked())  // its first decode is at the gate
        let longTicket = try harness.pool.submit(harness.request("b", prompt: long, maxTokens: 2))
        backend.openGate()
        let longCompletion = try #require(PoolFixture.drain(longTicket).end?.completion)
        let shortCompletion = try #require(PoolFixture.drain(shortTicket).end?.completion)
        #expect(longCompletion.result.tokens == harness.reference(long, maxTokens: 2))
        #expect(shortCompletion.result.tokens == harness.reference(short, maxTokens: 30))
        let steps = backend.recordedSteps
        let prefillSteps = steps.filter { step in
            step.contains { $0.tokens.count > 1 && $0.start + $0.tokens.count <= 40 && Array(long[$0.start..<($0.start + $0.tokens.count)]) == $0.tokens }
        }
        #expect(prefillSteps.count >= 6, "40 tokens in chunks of at most 7")
        for step in prefillSteps {
            #expect(step.reduce(0) { $0 + $1.tokens.count } <= 8)
            #expect(step.first?.tokens.count == 1, "the short sequence's decode comes first")
        }
    }

    @Test("a reader that does not read never stalls the worker; its text waits, joined, and nothing is lost")
    func slowReader() throws {
        let harness = try PoolHarness()
        defer { harness.pool.shutdown() }
        let slow = try harness.pool.submit(harness.request("slow", prompt: harness.prompt(5, seed: 1), maxTokens: 40))
        let other = try harness.pool.generate(harness.request("fast", prompt: harness.prompt(5, seed: 2), maxTokens: 40))
        #expect(other.result.tokens == harness.reference(harness.prompt(5, seed: 2), maxTokens: 40))
        #expect(PoolFixture.eventually { harness.pool.metrics().completions == 2 })
        var events: [PoolEvent] = []
        while let event = slow.next(timeout: .seconds(5)) { events.append(event) }
        #expect(events.count == 2, "one joined text event, then the end")
        let completion = try #require(events.last?.completion)
        if case .text(let text) = events.first { #expect(text == completion.result.text) } else { Issue.record("no text first") }
        #expect(completion.result.tokens == harness.reference(harness.prompt(5, seed: 1), maxTokens: 40))
    }

    @Test("weights through the pool: weight 3 gets about three admissions per one under contention")
    func weightsThroughPool() throws {
        let harness = try PoolHarness(maxRunning: 1, startAllowed: false)
        defer { harness.pool.shutdown() }
        var prompts: [[Int32]] = []
        var agents: [String] = []
        var tickets: [PoolTicket] = []
        for index in 0..<24 {
            let agent = index % 2 == 0 ? "heavy" : "light"
            prompts.append(harness.prompt(4, seed: index + 1))
            agents.append(agent)
            tickets.append(try harness.pool.submit(harness.request(agent, prompt: prompts[index], maxTokens: 4,
                                                                   weight: agent == "heavy" ? 3 : 1)))
        }
        harness.factory.allowStart()
        for ticket in tickets { #expect(PoolFixture.drain(ticket).end?.completion != nil) }
        let order = PoolHarness.admissionOrder(try harness.factory.first().recordedSteps, prompts: prompts)
        let firstTwelve = order.prefix(12).map { agents[$0] }
        let heavy = firstTwelve.filter { $0 == "heavy" }.count
        #expect((8...10).contains(heavy), "\(firstTwelve)")
    }

    @Test("with prefix caching off nothing is shared or cached")
    func prefixCachingOff() throws {
        let harness = try PoolHarness(prefixCaching: false)
        defer { harness.pool.shutdown() }
        let prompt = harness.prompt(20, seed: 4)
        for _ in 0..<2 {
            let completion = try harness.pool.generate(harness.request("a", prompt: prompt, maxTokens: 3))
            #expect(completion.usage.cachedPromptTokens == 0)
            #expect(completion.result.tokens == harness.reference(prompt, maxTokens: 3))
        }
        #expect(harness.pool.metrics().kvBlocksCached == 0)
    }

    @Test("when blocks run out, cached blocks are evicted least recently used, a chain's tail first")
    func lruEvictionThroughPool() throws {
        // Eight blocks of four. A (13 tokens) leaves three full blocks cached; B (20 tokens, 2 generated)
        // takes the five free blocks and then evicts one cached block: A's last, so A's next run
        // still finds its first two blocks.
        let harness = try PoolHarness(blocks: 8)
        defer { harness.pool.shutdown() }
        let a = harness.prompt(13, seed: 1), b = harness.prompt(20, seed: 2)
        let first = try harness.pool.generate(harness.request("a", prompt: a, maxTokens: 3))
        #expect(first.usage.cachedPromptTokens == 0)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksCached == 3 })
        _ = try harness.pool.generate(harness.request("b", prompt: b, maxTokens: 2))
        let again = try harness.pool.generate(harness.request("a", prompt: a, maxTokens: 3))
        #expect(again.usage.cachedPromptTokens == 8)
        #expect(again.result.tokens == first.result.tokens)
    }
}
