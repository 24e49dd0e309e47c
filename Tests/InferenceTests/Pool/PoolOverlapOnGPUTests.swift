// GPUBackend on the emulated device (the CUDA emulator running the kernel sources on the host) through
// the pool: it asks for overlapped output processing itself, and the tokens are the same as with
// overlap forced off. What runs here is the orchestration and the kernels' arithmetic, not a GPU.
import Foundation
import GPUTestSupport
import Testing
@testable import Inference

@Suite("Pool on an emulated GPU with overlapped output processing", .serialized)
struct PoolOverlapOnGPUTests {
    @Test("GPUBackend overlaps output processing through the pool; same tokens, texts and usage as with it off")
    func sameTokensWithOverlap() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try ["Name a colour.", "Count to three.", "Say hi."].map { try PoolModelTests.prompt(model, $0) }
        var configuration = PoolConfiguration()
        configuration.blockSize = 16
        configuration.kvMemoryBytes = 16 * 16 * model.llama.config.kvValuesPerToken * 2
        configuration.maxBatchTokens = 128
        var runs: [[Outcome]] = []
        for overlap in [false, true] {
            let log = StepLog()
            let gate = StartGate()
            let pool = InferencePool(configuration: configuration, tokenizer: model.tokenizer, placement: DevicePlacement(gpus: [0])) {
                (_, kv, block) throws(InferenceError) -> any InferenceBackend in
                gate.wait()
                let gpu = try GPUBackend(model: model.llama, device: EmulatedDevice(capacity: 1 << 30), kvMemoryBytes: kv, blockSize: block,
                                         maxPassTokens: 128, graphs: true)
                // On: the GPU backend as it is (its own flag, read through `any InferenceBackend`).
                return overlap ? gpu : ForwardingBackend(gpu, overlaps: false, log: log)
            }
            defer { pool.shutdown() }
            pool.outputObserver.handler.withLock { $0 = { log.observe($0) } }
            let requests = zip(prompts, [3, 6, 4]).enumerated().map { index, pair in
                PoolRequest(agent: "g\(index)", generation: GenerationRequest(prompt: pair.0, maxTokens: pair.1))
            }
            let outcomes = try OverlapRun.outcomes(pool, gate: gate, requests)
            let processed = log.events.filter { if case .processBegan = $0 { return true } else { return false } }.count
            #expect(overlap ? processed > 0 : processed == 0, "overlap \(overlap): \(processed) batches processed on the second thread")
            let generated = outcomes.reduce(0) { $0 + ($1.usage?.completionTokens ?? 0) }
            #expect(generated > 0)
            #expect(PoolFixture.eventually { pool.metrics().generatedTokens == generated })
            #expect(pool.metrics().tokensChosenByBackend >= generated, "the device picked the tokens")
            runs.append(outcomes)
        }
        PoolOverlapTests.expectSame(runs[0], runs[1])
        let gpu = try GPUBackend(model: model.llama, device: EmulatedDevice(capacity: 1 << 30), kvMemoryBytes: 1 << 20, maxPassTokens: 16,
                                 graphs: false)
        #expect((gpu as any InferenceBackend).overlapsOutputProcessing)
    }
}
