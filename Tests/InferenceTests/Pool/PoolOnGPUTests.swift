// The pool placed on a GPU worker whose backend is `GPUBackend` on the emulated device (the CUDA
// emulator running the kernel sources on the host): the path a GPU pool takes, end to end, without
// a GPU. MERGE: compiled with WARDEN_CUDA_BACKEND, once GPUBackend and GPUTestSupport are both in.
#if WARDEN_CUDA_BACKEND
import Foundation
import GPUTestSupport
import Synchronization
import Testing
@testable import Inference

@Suite("Pool on an emulated GPU: one worker per device, tokens chosen on the device", .serialized)
struct PoolOnGPUTests {
    @Test("greedy requests through a GPU worker equal the CPU Generator's tokens; the device picks them")
    func greedyOnEmulatedGPU() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try ["Name a colour.", "Count to three."].map { try PoolModelTests.prompt(model, $0) }
        let expected = try PoolModelTests.unbatched(model, prompts, maxTokens: 4)
        var configuration = PoolConfiguration()
        configuration.blockSize = 16
        configuration.kvMemoryBytes = 16 * 16 * model.llama.config.kvValuesPerToken * 2
        configuration.maxBatchTokens = 128
        let devices = Mutex<[WorkerDevice]>([])
        let pool = InferencePool(configuration: configuration, tokenizer: model.tokenizer, placement: DevicePlacement(gpus: [0])) {
            (device, kv, block) throws(InferenceError) -> any InferenceBackend in
            devices.withLock { $0.append(device) }
            return try GPUBackend(model: model.llama, device: EmulatedDevice(capacity: 1 << 30), kvMemoryBytes: kv, blockSize: block,
                                  maxPassTokens: 128, graphs: true)
        }
        defer { pool.shutdown() }
        let completions = try PoolModelTests.run(pool, prompts, maxTokens: 4)
        #expect(completions.map(\.result.tokens) == expected.map(\.tokens))
        #expect(devices.withLock { $0 } == [.gpu(0)])
        let generated = completions.reduce(0) { $0 + $1.usage.completionTokens }
        #expect(PoolFixture.eventually { pool.metrics().tokensChosenByBackend == generated })
    }
}
#endif
