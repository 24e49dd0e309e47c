import Foundation
import Testing
@testable import Inference

/// Scheduler steps driven by hand (no worker threads), so which steps mix which sequences is known.
@Suite("Scheduler: backend choice per step, admission per device")
struct SchedulerChoiceTests {
    struct Fixture {
        let tokenizer: Tokenizer
        let letters: [Int32]
        let core: PoolCore
        var nextID: UInt64 = 0

        init(gpus: [Int] = []) throws {
            tokenizer = try TextFixture.tokenizer()
            letters = PoolFixture.letters(tokenizer)
            var configuration = PoolConfiguration()
            configuration.blockSize = 4
            configuration.maxBatchTokens = 256
            core = PoolCore(configuration: configuration, tokenizer: tokenizer, placement: DevicePlacement(gpus: gpus)) { _, _, _ throws(InferenceError) in
                throw InferenceError(.unavailable, "schedulers are made by the test")
            }
        }

        func scheduler(_ device: WorkerDevice, tag: AnyObject) -> (Scheduler, ChoosingTestBackend) {
            let backend = ChoosingTestBackend(PagedTestBackend(blockSize: 4, blockCount: 128, alphabet: letters))
            return (Scheduler(core: core, backend: backend, workerID: ObjectIdentifier(tag), device: device), backend)
        }

        mutating func submit(_ prompt: [Int32], maxTokens: Int, sampling: SamplingParameters = .greedy, devices: [Int]? = nil) throws -> PoolJob {
            nextID += 1
            let generation = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling)
            let job = PoolJob(id: nextID, request: PoolRequest(agent: "agent\(nextID)", generation: generation, devices: devices),
                              state: try GenerationState(generation, tokenizer: tokenizer), now: .now)
            try core.enqueue(job)
            return job
        }
    }

    final class Tag {}

    @Test("a step mixing a plain and a filtered sampler gets logits; once the plain one runs alone, the backend chooses")
    func mixedSteps() throws {
        var fixture = try Fixture()
        let tag = Tag()
        let (scheduler, backend) = fixture.scheduler(.cpu, tag: tag)
        var filtered = SamplingParameters()
        filtered.seed = 11
        let long = try fixture.submit(PoolFixture.prompt(6, seed: 1, fixture.tokenizer), maxTokens: 12)
        let short = try fixture.submit(PoolFixture.prompt(6, seed: 2, fixture.tokenizer), maxTokens: 3, sampling: filtered)
        while !short.channel.hasEnded { scheduler.step() }
        #expect(backend.choices.calls == 0, "every step so far held the filtered sequence")
        while !long.channel.hasEnded { scheduler.step() }
        let calls = backend.choices.calls
        #expect(calls == 12 - 3, "the long sequence's remaining steps ran alone, each chosen by the backend (\(calls))")
        #expect(long.state.tokens == PagedTestBackend.reference(PoolFixture.prompt(6, seed: 1, fixture.tokenizer), maxTokens: 12, alphabet: fixture.letters))
    }

    @Test("a worker admits only requests its device may serve; another agent behind them is not held up")
    func admissionPerDevice() throws {
        var fixture = try Fixture(gpus: [0, 1])
        let tagA = Tag(), tagB = Tag()
        let (gpu0, _) = fixture.scheduler(.gpu(0), tag: tagA)
        let (gpu1, _) = fixture.scheduler(.gpu(1), tag: tagB)
        let pinned = try fixture.submit(PoolFixture.prompt(5, seed: 3, fixture.tokenizer), maxTokens: 2, devices: [1])
        let free = try fixture.submit(PoolFixture.prompt(5, seed: 4, fixture.tokenizer), maxTokens: 2)
        gpu0.step()
        #expect(gpu0.running.map(\.job.id) == [free.id] || free.channel.hasEnded)
        #expect(fixture.core.queue.count == 1 && !pinned.channel.hasEnded, "GPU 0 left the request pinned to GPU 1")
        while !pinned.channel.hasEnded { gpu1.step() }
        #expect(fixture.core.queue.isEmpty)
    }
}
