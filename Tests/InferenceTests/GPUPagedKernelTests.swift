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

    @Test(arguments: GPUFixture.devices) func ropeRotatesLikeTheCPUAndStoresKeysAndValuesInTheirBlocks(on target: TestDevice) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let c = backend.config, d = c.embeddingLength, kvd = c.kvDimension, hd = c.headDimension, width = d + 2 * kvd
        let arena = Arena(config: c, blockSize: blockSize), layer = 3, blocks = 6
        let positions: [Int32] = [0, 17, 40], tables: [Int32] = [4, 1, 5, 0, 2], starts: [Int32] = [0, 0, 2]
        var rng = SeededGenerator(seed: 11)
        let qkv = (0..<(positions.count * width)).map { _ in Float.random(in: -3...3, using: &rng) }
        // CPU: the rope table of each position, q and k rotated, k and v rounded to halves.
        var expectedQ = qkv, expectedArena = [UInt16](repeating: 0xFFFF, count: blocks * arena.blockStride)
        var table = [Float](repeating: 0, count: hd)
        for (t, p) in positions.enumerated() {
            backend.forward.ropeTable(position: Int(p), into: &table)
            expectedQ.withUnsafeMutableBufferPointer { q in
                backend.forward.rotate(q.baseAddress! + t * width, rows: 0..<d, table: &table)
                backend.forward.rotate(q.baseAddress! + t * width + d, rows: 0..<kvd, table: &table)
            }
            let slot = arena.keyRow(Int(p), table: Array(tables[Int(starts[t])...]), layer: layer)
            for i in 0..<kvd {
                expectedArena[slot + i] = Float16(expectedQ[t * width + d + i]).bitPattern
                expectedArena[slot + arena.valueOffset + i] = Float16(qkv[t * width + d + kvd + i]).bitPattern
            }
        }
        let a = DeviceArrays(target.device)
        let qb = try a.put(qkv), ab = try a.zeros(UInt16.self, blocks * arena.blockStride, fill: 0xFF)
        try a.device.launch(.ropeStoreKV, LaunchShape(grid: (UInt32(positions.count), 1, 1), block: (128, 1, 1)),
                            [.buffer(qb), .int32(Int32(width)), .int32(Int32(d)), .int32(Int32(kvd)), .int32(Int32(hd)),
                             .buffer(try a.put(c.ropeInverseFrequencies)), .buffer(try a.put(positions)), .buffer(try a.put(starts)),
                             .buffer(try a.put(tables))] + arena.arguments(ab, layer: layer))
        let q = try a.get(qb, qkv.count, as: Float.self)
        let stored = try a.get(ab, expectedArena.count, as: UInt16.self)
        let queries = (0..<positions.count).flatMap { t in Array(q[t * width..<t * width + d]) }
        let expectedQueries = (0..<positions.count).flatMap { t in Array(expectedQ[t * width..<t * width + d]) }
        let written = expectedArena.indices.filter { expectedArena[$0] != 0xFFFF }
        let untouched = expectedArena.indices.filter { expectedArena[$0] == 0xFFFF }.allSatisfy { stored[$0] == 0xFFFF }
        let kv = nmse(written.map { Float(Float16(bitPattern: stored[$0])) }, written.map { Float(Float16(bitPattern: expectedArena[$0])) })
        report(target, "rope q", nmse(queries, expectedQueries))
        report(target, "rope k/v stored", kv)
        #expect(nmse(queries, expectedQueries) < 1e-12)
        #expect(kv < 1e-12)
        #expect(untouched, "the kernel wrote outside the tokens' slots")
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
        let floats = nmse(try a.get(out, positions.count * d, as: Float.self), expected)
        let blocks8 = nmse(dequantizedBlocks(try a.get(xq, positions.count * d / 32 * 48, as: UInt8.self)),
                           dequantizedBlocks(cpuQuantized(expected, rows: positions.count, k: d)))
        report(target, "attention (\(warps) warps)", floats)
        report(target, "attention quantized (\(warps) warps)", blocks8)
        #expect(floats < 1e-10 && blocks8 < 1e-8, "\(floats) \(blocks8)")
    }
}
