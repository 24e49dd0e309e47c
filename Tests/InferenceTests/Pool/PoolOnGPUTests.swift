// The pool placed on a GPU worker whose backend is `GPUBackend` on the emulated device (the CUDA
// emulator running the kernel sources on the host): the path a GPU pool takes, end to end, without
// a GPU.
import Foundation
import GPUTestSupport
import Synchronization
import Testing
@testable import Inference

@Suite("Pool on an emulated GPU: one worker per device, tokens chosen on the device", .serialized)
struct PoolOnGPUTests {
    /// `count` greedy tokens of one sequence alone on its own GPUBackend (no pool, no batching).
    static func alone(_ model: LoadedModel, _ prompt: [Int32], count: Int) throws -> [Int32] {
        let backend = try GPUBackend(model: model.llama, device: EmulatedDevice(capacity: 1 << 30),
                                     kvMemoryBytes: 8 * 16 * model.llama.config.kvValuesPerToken * 2, maxPassTokens: 128, graphs: false)
        let table = (0..<backend.kvLayout.blocks(for: prompt.count + count)).map { Int32($0) }
        var tokens = [argmax(try backend.evaluate([BatchEntry(blocks: table, start: 0, tokens: prompt)])[0])]
        while tokens.count < count {
            let entry = BatchEntry(blocks: table, start: prompt.count + tokens.count - 1, tokens: [tokens[tokens.count - 1]])
            tokens.append(argmax(try backend.evaluate([entry])[0]))
        }
        return tokens
    }

    static func argmax(_ logits: [Float]) -> Int32 { Int32(logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0) }

    // The expected tokens are the GPU kernels' own, one sequence alone with host argmax: the pool must
    // not change them (batching, graph replay and device-side choice are all exact). Against the CPU
    // they may part where two logits are within the kernels' rounding (the parity tests' business).
    @Test("greedy requests through a GPU worker equal one sequence alone on the GPU backend; the device picks them")
    func greedyOnEmulatedGPU() throws {
        let model = try LoadedModelFixture.model()
        let prompts = try ["Name a colour.", "Count to three."].map { try PoolModelTests.prompt(model, $0) }
        let expected = try prompts.map { try Self.alone(model, $0, count: 4) }
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
        #expect(completions.map(\.result.tokens) == expected)
        #expect(devices.withLock { $0 } == [.gpu(0)])
        let generated = completions.reduce(0) { $0 + $1.usage.completionTokens }
        #expect(PoolFixture.eventually { pool.metrics().tokensChosenByBackend == generated })
    }
}
