import Foundation
import GPUTestSupport
import Testing
@testable import Inference

/// GPUBackend refuses what CPUBackend refuses, with the same errors, and leaves the KV arena as it was.
@Suite struct GPUBackendErrorTests {
    @Test func badBatchesAreRejectedLikeTheCPUsAndChangeNoBlock() throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let device = EmulatedDevice(capacity: 1 << 30)
        let bytes = 4 * 16 * model.config.kvValuesPerToken * 2
        let gpu = try GPUBackend(model: model, device: device, kvMemoryBytes: bytes, maxPassTokens: 8)
        let cpu = try CPUBackend(model: model, threads: 1, kvMemoryBytes: bytes)
        let arena = Int32(gpu.kvLayout.blockCount), context = model.config.contextLength
        let good = BatchEntry(blocks: [0, 1], start: 0, tokens: [1])
        let batches: [[BatchEntry]] = [
            [BatchEntry(blocks: [0], start: 0, tokens: Array(repeating: 1, count: 17))],
            [good, BatchEntry(blocks: [2], start: 0, tokens: [49152])],
            [BatchEntry(blocks: [0], start: 0, tokens: [-1])],
            [BatchEntry(blocks: [arena], start: 0, tokens: [1])],
            [BatchEntry(blocks: [-1], start: 0, tokens: [1])],
            [BatchEntry(blocks: [0], start: 0, tokens: [])],
            [BatchEntry(blocks: [0], start: -1, tokens: [1])],
            [BatchEntry(blocks: [0], start: context, tokens: [1])],
        ]
        let before = try arenaBytes(gpu, device)
        for batch in batches {
            let expected = #expect(throws: InferenceError.self) { try cpu.evaluate(batch) }
            let got = #expect(throws: InferenceError.self) { try gpu.evaluate(batch) }
            #expect(got?.code == expected?.code && got?.message == expected?.message, "\(String(describing: got))")
            #expect(throws: InferenceError.self) { try gpu.evaluate(batch, choosing: batch.map { _ in .greedy }) }
        }
        #expect(throws: InferenceError.self) { try gpu.evaluate([good], choosing: []) }
        #expect(try arenaBytes(gpu, device) == before, "a rejected batch changed the KV arena")
        #expect(device.counters.launchesIssued == 0 && device.counters.replays == 0)
    }

    /// A model whose matrices the kernels lack (F32 here) is refused with a message naming the tensor.
    @Test func unsupportedMatrixTypesAreRefused() throws {
        let model = try LlamaModel(file: GGUFFile(bytes: Self.tinyF32Llama()))
        let error = #expect(throws: InferenceError.self) { try GPUBackend(model: model, device: EmulatedDevice(capacity: 1 << 26)) }
        #expect(error?.code == .unsupported && error?.message.contains("Q4_1 and Q8_0") == true, "\(String(describing: error))")
    }

    func arenaBytes(_ gpu: GPUBackend, _ device: EmulatedDevice) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: gpu.arena.byteCount)
        try bytes.withUnsafeMutableBytes { try device.download(gpu.arena, offset: 0, into: $0) }
        try device.synchronize()
        return bytes
    }

    /// A one-layer llama of width 32 whose matrices are all F32 (GGUF bytes, built in memory).
    static func tinyF32Llama() -> [UInt8] {
        var kv = GGUFBuilder(), count = 0
        func u32(_ key: String, _ v: UInt32) { kv.string(key); kv.u32(4); kv.u32(v); count += 1 }
        kv.string("general.architecture"); kv.u32(8); kv.string("llama"); count += 1
        u32("llama.block_count", 1); u32("llama.embedding_length", 32); u32("llama.feed_forward_length", 32)
        u32("llama.attention.head_count", 1); u32("llama.context_length", 16)
        kv.string("llama.attention.layer_norm_rms_epsilon"); kv.u32(6); kv.f32(1e-5); count += 1
        kv.string("tokenizer.ggml.tokens"); kv.u32(9); kv.u32(8); kv.u64(3); count += 1
        for t in ["a", "b", "c"] { kv.string(t) }
        let matrices = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"].map { "blk.0.\($0).weight" }
        var tensors: [(String, [UInt64])] = [("token_embd.weight", [32, 3]), ("blk.0.attn_norm.weight", [32]), ("blk.0.ffn_norm.weight", [32]),
                                             ("output_norm.weight", [32])]
        tensors += matrices.map { ($0, [32, 32]) }
        var b = GGUFBuilder(), offset: UInt64 = 0
        b.u32(0x4655_4747); b.u32(3); b.u64(UInt64(tensors.count)); b.u64(UInt64(count))
        b.bytes += kv.bytes
        for (name, shape) in tensors {
            b.string(name); b.u32(UInt32(shape.count))
            for d in shape { b.u64(d) }
            b.u32(0); b.u64(offset)
            offset += shape.reduce(4, *)
        }
        b.pad(to: 32)
        for _ in 0..<Int(offset / 4) { b.f32(0.5) }
        return b.bytes
    }
}
