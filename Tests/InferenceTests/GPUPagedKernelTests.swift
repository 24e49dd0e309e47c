import CInferenceKernels
import Foundation
import GPUTestSupport
import Testing
@testable import Inference
import TestSupport

/// The kernels that touch the paged KV arena (RoPE + store, attention), against the CPU engine on
/// block tables in shuffled order, with the arena laid out as KVArena lays it out.
@Suite struct GPUPagedKernelTests {
    let blockSize = 16

    struct Arena {
        let config: ModelConfig
        let blockSize: Int
        var kvd: Int { config.kvDimension }
        var blockStride: Int { 2 * blockSize * kvd * config.layerCount }
        var valueOffset: Int { blockSize * kvd }
        func layerOffset(_ l: Int) -> Int { l * 2 * blockSize * kvd }
        /// Half index of position p's key row (table `table`, layer l).
        func keyRow(_ p: Int, table: [Int32], layer l: Int) -> Int {
            Int(table[p / blockSize]) * blockStride + layerOffset(l) + (p % blockSize) * kvd
        }
        func arguments(_ b: DeviceBuffer, layer: Int) -> [KernelArgument] {
            [.buffer(b), .int32(Int32(blockSize)), .int32(Int32(blockStride)), .int32(Int32(layerOffset(layer))), .int32(Int32(valueOffset))]
        }
    }

    /// Where the RoPE tests put their three tokens: positions 0, 17 (one sequence) and 40 (another).
    static let positions: [Int32] = [0, 17, 40], tables: [Int32] = [4, 1, 5, 0, 2], starts: [Int32] = [0, 0, 2]

    /// The CPU's RoPE on rows of q|k|v (`qkv`, one row per token): rotated queries, and the arena with the
    /// rotated keys and the values as halves in the tokens' slots (0xFFFF everywhere else).
    func expectedRope(_ qkv: [Float], arena: Arena, layer: Int, blocks: Int) throws -> (q: [Float], arena: [UInt16]) {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let c = backend.config, d = c.embeddingLength, kvd = c.kvDimension, width = d + 2 * kvd
        var rotated = qkv, halves = [UInt16](repeating: 0xFFFF, count: blocks * arena.blockStride)
        var table = [Float](repeating: 0, count: c.headDimension)
        for (t, p) in Self.positions.enumerated() {
            backend.forward.ropeTable(position: Int(p), into: &table)
            rotated.withUnsafeMutableBufferPointer { q in
                backend.forward.rotate(q.baseAddress! + t * width, rows: 0..<d, table: &table)
                backend.forward.rotate(q.baseAddress! + t * width + d, rows: 0..<kvd, table: &table)
            }
            let slot = arena.keyRow(Int(p), table: Array(Self.tables[Int(Self.starts[t])...]), layer: layer)
            for i in 0..<kvd {
                halves[slot + i] = Float16(rotated[t * width + d + i]).bitPattern
                halves[slot + arena.valueOffset + i] = Float16(qkv[t * width + d + kvd + i]).bitPattern
            }
        }
        let queries = Self.positions.indices.flatMap { t in Array(rotated[t * width..<t * width + d]) }
        return (queries, halves)
    }

    /// Runs `launch` (given the qkv and arena buffers and the per-token arguments after them) and
    /// compares the queries and the arena with `expected`.
    func checkRope(_ name: String, on target: TestDevice, expected: (q: [Float], arena: [UInt16]), arena: Arena,
                   launch: (DeviceArrays, DeviceBuffer, DeviceBuffer, [KernelArgument]) throws -> Void) throws {
        let c = arena.config, d = c.embeddingLength, width = d + 2 * c.kvDimension, t = Self.positions.count
        let a = DeviceArrays(target.device)
        let qb = try a.zeros(Float.self, t * width), ab = try a.zeros(UInt16.self, expected.arena.count, fill: 0xFF)
        let perToken: [KernelArgument] = [.int32(Int32(c.headDimension)), .buffer(try a.put(c.ropeInverseFrequencies)),
                                          .buffer(try a.put(Self.positions)), .buffer(try a.put(Self.starts)), .buffer(try a.put(Self.tables))]
        try launch(a, qb, ab, perToken)
        let q = try a.get(qb, t * width, as: Float.self), stored = try a.get(ab, expected.arena.count, as: UInt16.self)
        let queries = (0..<t).flatMap { Array(q[$0 * width..<$0 * width + d]) }
        let written = expected.arena.indices.filter { expected.arena[$0] != 0xFFFF }
        let untouched = expected.arena.indices.filter { expected.arena[$0] == 0xFFFF }.allSatisfy { stored[$0] == 0xFFFF }
        let kv = nmse(written.map { Float(Float16(bitPattern: stored[$0])) }, written.map { Float(Float16(bitPattern: expected.arena[$0])) })
        report(target, "\(name) q", nmse(queries, expected.q))
        report(target, "\(name) k/v stored", kv)
        // Halves: a GPU's cosf and sinf (within 2 ulp of the host's) may move a key across a rounding
        // boundary of its half, one half-ulp (~5e-4 relative); the emulator matches the CPU exactly.
        #expect(nmse(queries, expected.q) < 1e-10 && kv < 1e-6, "\(nmse(queries, expected.q)) \(kv)")
        #expect(untouched, "the kernel wrote outside the tokens' slots")
    }

    @Test(arguments: GPUFixture.devices) func ropeRotatesLikeTheCPUAndStoresKeysAndValuesInTheirBlocks(on target: TestDevice) throws {
        let c = try #require(SharedModel.model, "model missing at \(ModelFixture.path)").config
        let d = c.embeddingLength, kvd = c.kvDimension, width = d + 2 * kvd, layer = 3
        let arena = Arena(config: c, blockSize: blockSize)
        var rng = SeededGenerator(seed: 11)
        let qkv = (0..<(Self.positions.count * width)).map { _ in Float.random(in: -3...3, using: &rng) }
        try checkRope("rope", on: target, expected: try expectedRope(qkv, arena: arena, layer: layer, blocks: 6), arena: arena) { a, qb, ab, rest in
            try qkv.withUnsafeBytes { try a.device.upload($0, to: qb, offset: 0) }
            try a.device.launch(.ropeStoreKV, LaunchShape(grid: (UInt32(Self.positions.count), 1, 1), block: (128, 1, 1)),
                                [.buffer(qb), .int32(Int32(width)), .int32(Int32(d)), .int32(Int32(kvd))] + rest + arena.arguments(ab, layer: layer))
        }
    }

    /// The stacked Q|K|V of a model layer times three tokens' activation blocks, rotated and stored in one
    /// launch, against the CPU's dot products, rotation and half rounding.
    @Test(arguments: GPUFixture.devices) func matmulRopeStoreMatchesTheCPU(on target: TestDevice) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let c = model.config, d = c.embeddingLength, kvd = c.kvDimension, width = d + 2 * kvd, layer = 4, t = Self.positions.count
        let w = model.layers[layer], stacked = Array(w.query.data) + Array(w.key.data) + Array(w.value.data)
        var rng = SeededGenerator(seed: 14)
        let xq = cpuQuantized((0..<(t * d)).map { _ in Float.random(in: -3...3, using: &rng) }, rows: t, k: d)
        let rowBytes = d / 32 * 20
        let qkv: [Float] = stacked.withUnsafeBytes { wb in
            xq.withUnsafeBytes { xb in
                (0..<t).flatMap { v in
                    (0..<width).map { r in
                        ReferenceKernels.dotQ8(.q4_1, row: wb.baseAddress! + r * rowBytes, k: d, x: xb.baseAddress! + v * (d / 32) * ReferenceKernels.q8BlockBytes)
                    }
                }
            }
        }
        let arena = Arena(config: c, blockSize: blockSize)
        try checkRope("matmul q|k|v + rope", on: target, expected: try expectedRope(qkv, arena: arena, layer: layer, blocks: 6), arena: arena) { a, qb, ab, rest in
            try a.device.launch(.matmulRopeStoreKV, GPUBackend.matmulShape(rows: width, vectors: t),
                                [.buffer(try a.put(stacked)), .int32(3), .int32(Int32(d)), .int32(Int32(kvd)), .int32(Int32(d)), .buffer(try a.put(xq)),
                                 .int32(Int32(t)), .buffer(qb), .int32(Int32(width))] + rest + arena.arguments(ab, layer: layer))
        }
    }

    @Test(arguments: GPUFixture.devices, [1, 4]) func attentionOverAShuffledPagedCacheMatchesTheCPU(on target: TestDevice, warps: Int) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let c = backend.config, d = c.embeddingLength, kvd = c.kvDimension, hd = c.headDimension, width = d + 2 * kvd
        let arena = Arena(config: c, blockSize: blockSize), layer = 2, blocks = 8, length = 70
        let table: [Int32] = [7, 2, 5, 0, 3], positions: [Int32] = [69, 40, 0, 31]
        var rng = SeededGenerator(seed: 12)
        var halves = [UInt16](repeating: 0xFFFF, count: blocks * arena.blockStride)  // NaN wherever nothing was cached
        for p in 0..<length {
            let row = arena.keyRow(p, table: table, layer: layer)
            for i in 0..<kvd {
                halves[row + i] = Float16(Float.random(in: -2...2, using: &rng)).bitPattern
                halves[row + arena.valueOffset + i] = Float16(Float.random(in: -2...2, using: &rng)).bitPattern
            }
        }
        let qkv = (0..<(positions.count * width)).map { _ in Float.random(in: -2...2, using: &rng) }
        let scale = 1 / Float(hd).squareRoot(), group = c.headCount / c.kvHeadCount
        var expected = [Float](repeating: 0, count: positions.count * d), scores = [Float](repeating: 0, count: length)
        halves.withUnsafeBufferPointer { h in
            table.withUnsafeBufferPointer { tb in
                for (t, p) in positions.enumerated() {
                    for head in 0..<c.headCount {
                        var view = wk_kv_view(base: h.baseAddress! + arena.layerOffset(layer) + (head / group) * hd, table: tb.baseAddress!,
                                              block_stride: arena.blockStride, row_stride: kvd, value_offset: arena.valueOffset, block: Int32(blockSize))
                        wk_attention_f16(Array(qkv[(t * width + head * hd)...]), &view, p + 1, Int32(hd), scale, &scores, &expected[t * d + head * hd])
                    }
                }
            }
        }
        let a = DeviceArrays(target.device)
        let out = try a.zeros(Float.self, positions.count * d), xq = try a.zeros(UInt8.self, positions.count * d / 32 * 48)
        var shape = GPUBackend.attentionShape(config: c, tokens: positions.count)
        shape.block.y = UInt32(warps)
        shape.sharedBytes = UInt32(4 * (hd + 32 * warps + 2 * warps + warps * hd))
        try a.device.launch(.attention, shape,
                            [.buffer(try a.put(qkv)), .int32(Int32(width)), .int32(Int32(hd)), .int32(Int32(group)),
                             .buffer(try a.put(positions)), .buffer(try a.put([Int32](repeating: 0, count: positions.count))),
                             .buffer(try a.put(table))] + arena.arguments(try a.put(halves), layer: layer)
                            + [.int32(Int32(kvd)), .float(scale), .buffer(out), .int32(Int32(d)), .buffer(xq), .int32(1)])
        let gpu = try a.get(out, positions.count * d, as: Float.self), floats = nmse(gpu, expected)
        let quantized = try a.get(xq, positions.count * d / 32 * 48, as: UInt8.self)
        report(target, "attention (\(warps) warps)", floats)
        report(target, "attention quantized (\(warps) warps)",
               nmse(dequantizedBlocks(quantized), dequantizedBlocks(cpuQuantized(expected, rows: positions.count, k: d))))
        #expect(floats < 1e-10)
        #expect(quantized == cpuQuantized(gpu, rows: positions.count, k: d), "the blocks are not the CPU's quantization of the kernel's floats")
    }
}
