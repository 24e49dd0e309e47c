import Testing
@testable import Inference

@Suite("Pool: fair queue (virtual token counters, tiers, limits)")
struct FairQueueTests {
    static func job(_ agent: String, weight: Double = 1, priority: PoolPriority = .interactive,
                    promptTokens: Int = 4, id: UInt64 = 0) throws -> PoolJob {
        let tokenizer = try TextFixture.tokenizer()
        let generation = GenerationRequest(prompt: Array(repeating: 1000, count: promptTokens), maxTokens: 4)
        let request = PoolRequest(agent: agent, weight: weight, priority: priority, generation: generation)
        return PoolJob(id: id, request: request, state: try GenerationState(generation, tokenizer: tokenizer), now: .now)
    }

    static func queue(perAgent: Int = 1000, total: Int = 10000) -> FairQueue {
        var configuration = PoolConfiguration()
        configuration.maxQueuedPerAgent = perAgent
        configuration.maxQueuedTotal = total
        return FairQueue(configuration: configuration)
    }

    /// Dequeues `count` jobs, charging each 4 generated tokens as if it ran; returns the agents served.
    static func serve(_ queue: inout FairQueue, _ count: Int) -> [String] {
        (0..<count).compactMap { _ in
            guard let job = queue.dequeue() else { return nil }
            queue.chargeDecode(agent: job.agent, generated: 4)
            return job.agent
        }
    }

    @Test("a noisy agent with 10x the requests does not delay the quiet ones: one each per round")
    func noisyAgent() throws {
        var queue = Self.queue()
        for _ in 0..<30 { queue.enqueue(try Self.job("noisy")) }
        for quiet in ["q1", "q2", "q3"] { for _ in 0..<3 { queue.enqueue(try Self.job(quiet)) } }
        let served = Self.serve(&queue, 12)
        for quiet in ["q1", "q2", "q3"] { #expect(served.filter { $0 == quiet }.count == 3) }
        #expect(served.filter { $0 == "noisy" }.count == 3)
    }

    @Test("weights are honoured: weight 2 gets twice the service of weight 1 under contention")
    func weights() throws {
        var queue = Self.queue()
        for _ in 0..<20 {
            queue.enqueue(try Self.job("heavy", weight: 2))
            queue.enqueue(try Self.job("light", weight: 1))
        }
        let served = Self.serve(&queue, 15)
        let heavy = served.filter { $0 == "heavy" }.count, light = served.count - heavy
        #expect(abs(heavy - 2 * light) <= 2, "heavy \(heavy), light \(light)")
    }

    @Test("an agent becoming backlogged is lifted to the smallest counter: idle time is not banked")
    func liftRule() throws {
        var queue = Self.queue()
        for _ in 0..<20 { queue.enqueue(try Self.job("busy")) }
        _ = Self.serve(&queue, 10)
        let busyCounter = try #require(queue.counter(of: "busy"))
        for _ in 0..<10 { queue.enqueue(try Self.job("late")) }
        #expect(queue.counter(of: "late") == busyCounter)
        // The late agent alternates with the busy one instead of taking ten turns in a row.
        let next = Self.serve(&queue, 6)
        #expect(next.filter { $0 == "late" }.count == 3)
    }

    @Test("every waiting interactive request goes before any batch one")
    func tiers() throws {
        var queue = Self.queue()
        for index in 0..<3 { queue.enqueue(try Self.job("a", priority: .batch, id: UInt64(index))) }
        for index in 3..<5 { queue.enqueue(try Self.job("b", priority: .interactive, id: UInt64(index))) }
        let order = (0..<5).compactMap { _ in queue.dequeue()?.id }
        #expect(order == [3, 4, 0, 1, 2])
    }

    @Test("limits per agent and in total are refusals; a preempted job goes back in front")
    func limitsAndFront() throws {
        var queue = Self.queue(perAgent: 2, total: 3)
        queue.enqueue(try Self.job("a", id: 1))
        queue.enqueue(try Self.job("a", id: 2))
        #expect(queue.refusal(for: "a") == .agentFull(queued: 2))
        #expect(queue.refusal(for: "b") == nil)
        queue.enqueue(try Self.job("b", id: 3))
        #expect(queue.refusal(for: "c") == .totalFull(queued: 3))
        queue.enqueue(try Self.job("a", id: 9), atFront: true)
        #expect(queue.depthByAgent == ["a": 3, "b": 1])
        #expect(queue.dequeue()?.id == 9)
    }
}
