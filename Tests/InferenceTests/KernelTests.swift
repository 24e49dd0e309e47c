import CInferenceKernels
import Foundation
import Testing
@testable import Inference
import TestSupport

/// The C kernels at every instruction-set level this CPU has, against the Swift reference kernels.
@Suite struct KernelTests {
    static let levels: [Int32] = Array(0...wk_isa_detect())

    /// A random GGUF matrix of `rows` x `k` in `type` with realistic scales (f16 d in [0.01, 0.5], Q4_1 m < 0).
    static func randomMatrix(_ type: GGMLType, rows: Int, k: Int, rng: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<(rows * k / 32) {
            let d = Float16(Float.random(in: 0.01...0.5, using: &rng))
            withUnsafeBytes(of: d.bitPattern) { bytes += $0 }
            if type == .q4_1 {
                withUnsafeBytes(of: Float16(Float.random(in: -4...0, using: &rng)).bitPattern) { bytes += $0 }
                for _ in 0..<16 { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            } else {
                for _ in 0..<32 { bytes.append(UInt8(bitPattern: Int8.random(in: -127...127, using: &rng))) }
            }
        }
        return bytes
    }

    static func quantized(_ x: [Float], vectors: Int, k: Int) -> [UInt8] { cpuQuantized(x, rows: vectors, k: k) }

    @Test(arguments: [GGMLType.q4_1, .q8_0], [(rows: 40, k: 96, nv: 1), (rows: 48, k: 576, nv: 3), (rows: 7, k: 64, nv: 9)])
    func matmulMatchesSwiftReference(type: GGMLType, shape: (rows: Int, k: Int, nv: Int)) throws {
        var rng = SeededGenerator(seed: UInt64(shape.rows * 1000 + shape.k))
        let (rows, k, nv) = shape
        let w = Self.randomMatrix(type, rows: rows, k: k, rng: &rng)
        let x = (0..<(nv * k)).map { _ in Float.random(in: -3...3, using: &rng) }
        let xq = Self.quantized(x, vectors: nv, k: k)
        let size = type == .q4_1 ? wk_repacked_size_q4_1(Int32(rows), Int32(k)) : wk_repacked_size_q8_0(Int32(rows), Int32(k))
        var packed = [UInt8](repeating: 0, count: size)
        w.withUnsafeBytes { src in
            packed.withUnsafeMutableBytes { dst in
                if type == .q4_1 { wk_repack_q4_1(src.baseAddress, Int32(rows), Int32(k), dst.baseAddress) }
                else { wk_repack_q8_0(src.baseAddress, Int32(rows), Int32(k), dst.baseAddress) }
            }
        }
        // Reference: per-row Swift dot on the GGUF layout; and the float dot as a sanity bound.
        var expected = [Float](repeating: 0, count: nv * rows), exact = expected, bound = expected
        var row = [Float](repeating: 0, count: k)
        w.withUnsafeBytes { wb in
            xq.withUnsafeBytes { xb in
                for r in 0..<rows {
                    ReferenceKernels.dequantizeRow(type, wb, row: r, k: k, into: &row)
                    for v in 0..<nv {
                        expected[v * rows + r] = ReferenceKernels.dotQ8(type, row: wb.baseAddress! + r * (w.count / rows), k: k,
                                                                       x: xb.baseAddress! + v * (k / 32) * ReferenceKernels.q8BlockBytes)
                        let pairs = zip(row, x[(v * k)..<((v + 1) * k)])
                        exact[v * rows + r] = pairs.reduce(0) { $0 + $1.0 * $1.1 }
                        // |x| <= 3, so rounding x to 1/127 of its block's max moves each term by at most |w|·3/254;
                        // the f16-rounded activation scale adds a relative 2^-11.
                        bound[v * rows + r] = pairs.reduce(0) { $0 + abs($1.0) * 3 / 254 + abs($1.0 * $1.1) / 1024 } + 1e-3
                    }
                }
            }
        }
        for level in Self.levels {
            var y = [Float](repeating: .nan, count: nv * rows)
            packed.withUnsafeBytes { p in
                xq.withUnsafeBytes { xb in
                    let blocks = xb.baseAddress!.assumingMemoryBound(to: wk_block_q8.self)
                    let groups = Int32((rows + 15) / 16)
                    // Two calls over split group ranges, as the threads do.
                    let f = type == .q4_1 ? wk_matmul_q4_1_at : wk_matmul_q8_0_at
                    f(level, p.baseAddress, Int32(rows), Int32(k), 0, groups / 2, blocks, Int32(nv), &y, Int32(rows))
                    f(level, p.baseAddress, Int32(rows), Int32(k), groups / 2, groups, blocks, Int32(nv), &y, Int32(rows))
                }
            }
            for i in y.indices {
                #expect(abs(y[i] - expected[i]) <= 1e-3 * max(1, abs(expected[i])), "level \(level) \(type) [\(i)]: \(y[i]) vs \(expected[i])")
                #expect(abs(y[i] - exact[i]) <= bound[i], "level \(level) \(type) [\(i)] quantization error")
            }
        }
    }

    @Test func quantizeMatchesSwiftReference() {
        var rng = SeededGenerator(seed: 7)
        var x = (0..<256).map { _ in Float.random(in: -10...10, using: &rng) }
        x[40..<72] = ArraySlice(repeating: 0, count: 32)  // an all-zero block: d = 0, no division by zero
        for j in 0..<32 { x[128 + j] = 127 / 10 * (Float(j) - 15.5) / 15.5 * 10 }  // values at exact .5 steps
        x[160..<192] = ArraySlice((0..<32).map { Float($0) - 15.5 })
        let swift = Self.quantized(x, vectors: 1, k: 256)
        for level in Self.levels {
            var c = [UInt8](repeating: 0xAA, count: swift.count)
            c.withUnsafeMutableBytes { wk_quantize_q8_at(level, x, 256, $0.baseAddress!.assumingMemoryBound(to: wk_block_q8.self)) }
            #expect(c == swift, "level \(level)")
        }
    }

    @Test func halfConversionsRoundTripEveryHalf() {
        let halves = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: halves.count), back = [UInt16](repeating: 0, count: halves.count)
        wk_f16_to_f32(halves, &floats, Int32(halves.count))
        wk_f32_to_f16(floats, &back, Int32(halves.count))
        for h in halves where !Float16(bitPattern: h).isNaN {
            #expect(floats[Int(h)] == Float(Float16(bitPattern: h)))
            #expect(back[Int(h)] == h)
        }
        var rng = SeededGenerator(seed: 3)
        let xs = (0..<20000).map { _ in Float(bitPattern: UInt32.random(in: 0x2000_0000...0x4800_0000, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) }
        var hs = [UInt16](repeating: 0, count: xs.count)
        wk_f32_to_f16(xs, &hs, Int32(xs.count))
        for (x, h) in zip(xs, hs) { #expect(h == Float16(x).bitPattern, "\(x)") }
    }

    @Test(arguments: [1, 7, 300])
    func attentionMatchesSwiftReference(positions n: Int) {
        var rng = SeededGenerator(seed: UInt64(n))
        let hd = 64, stride = 192
        let q = (0..<hd).map { _ in Float.random(in: -2...2, using: &rng) }
        let kf = (0..<(n * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
        let vf = (0..<(n * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
        let k = kf.map { Float16($0).bitPattern }, v = vf.map { Float16($0).bitPattern }
        // Reference in Swift (offset one head in, as GQA uses it).
        let off = 64, scale = 1 / Float(hd).squareRoot()
        var s = (0..<n).map { j in (0..<hd).reduce(Float(0)) { $0 + q[$1] * Float(Float16(bitPattern: k[j * stride + off + $1])) } * scale }
        let m = s.max()!
        s = s.map { expf($0 - m) }
        let sum = s.reduce(0, +)
        let expected = (0..<hd).map { d in (0..<n).reduce(Float(0)) { $0 + s[$1] / sum * Float(Float16(bitPattern: v[$1 * stride + off + d])) } }
        // The same positions in a paged arena: 16-position blocks in shuffled order, keys then values per block.
        let block = 16, blocks = (n + block - 1) / block
        var table = (0..<blocks).map(Int32.init)
        table.shuffle(using: &rng)
        var arena = [UInt16](repeating: 0xFFFF, count: blocks * 2 * block * stride)  // NaN halfs where nothing was written
        for j in 0..<n {
            let row = Int(table[j / block]) * 2 * block * stride + (j % block) * stride
            for e in 0..<stride { arena[row + e] = k[j * stride + e]; arena[row + block * stride + e] = v[j * stride + e] }
        }
        for level in Self.levels {
            var scores = [Float](repeating: 0, count: n), out = [Float](repeating: .nan, count: hd)
            arena.withUnsafeBufferPointer { ab in
                table.withUnsafeBufferPointer { tb in
                    var view = wk_kv_view(base: ab.baseAddress! + off, table: tb.baseAddress!, block_stride: 2 * block * stride,
                                          row_stride: stride, value_offset: block * stride, block: Int32(block))
                    wk_attention_f16_at(level, q, &view, Int32(n), Int32(hd), scale, &scores, &out)
                }
            }
            for d in 0..<hd { #expect(abs(out[d] - expected[d]) < 1e-4, "level \(level) d \(d)") }
        }
    }
}
