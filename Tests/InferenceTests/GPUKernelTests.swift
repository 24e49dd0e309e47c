import CInferenceKernels
import Foundation
import GPUTestSupport
import Testing
@testable import Inference
import TestSupport

/// Each GPU kernel on the emulator against the CPU engine's own operation on the same inputs, with a
/// normalized-MSE bound per op (the kernels differ from the CPU only in float summation order).
@Suite struct GPUKernelTests {
    let d = 576

    /// A matrix's first `rows` rows (whole matrix when nil) as raw GGUF bytes.
    func rawRows(_ m: WeightMatrix, _ rows: Int? = nil) -> (bytes: [UInt8], rows: Int) {
        let r = min(rows ?? m.rows, m.rows)
        return (Array(m.data.prefix(m.data.count / m.rows * r)), r)
    }

    func matmul(_ m: WeightMatrix, rows limit: Int?, vectors nv: Int, accumulate: Bool, seed: UInt64, on target: TestDevice) throws -> Double {
        var rng = SeededGenerator(seed: seed)
        let (bytes, rows) = rawRows(m, limit), k = m.cols
        let x = (0..<(nv * k)).map { _ in Float.random(in: -3...3, using: &rng) }
        let xq = cpuQuantized(x, rows: nv, k: k)
        let initial = (0..<(nv * rows)).map { _ in Float.random(in: -1...1, using: &rng) }
        var expected = [Float](repeating: 0, count: nv * rows)
        bytes.withUnsafeBytes { w in
            xq.withUnsafeBytes { xb in
                for r in 0..<rows {
                    for v in 0..<nv {
                        let dot = ReferenceKernels.dotQ8(m.type, row: w.baseAddress! + r * (bytes.count / rows), k: k,
                                                         x: xb.baseAddress! + v * (k / 32) * ReferenceKernels.q8BlockBytes)
                        expected[v * rows + r] = (accumulate ? initial[v * rows + r] : 0) + dot
                    }
                }
            }
        }
        let a = DeviceArrays(target.device)
        let (wb, xb, yb) = (try a.put(bytes), try a.put(xq), try a.put(initial))
        try a.device.launch(m.type == .q4_1 ? .matmulQ4_1 : .matmulQ8_0, GPUBackend.matmulShape(rows: rows, vectors: nv),
                            [.buffer(wb), .int32(Int32(rows)), .int32(Int32(k)), .buffer(xb), .int32(Int32(nv)), .buffer(yb),
                             .int32(Int32(rows)), .int32(accumulate ? 1 : 0)])
        return nmse(try a.get(yb, nv * rows, as: Float.self), expected)
    }

    @Test(arguments: GPUFixture.devices) func matmulQ4_1MatchesTheCPUOnModelMatrices(on target: TestDevice) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let gate = try matmul(model.layers[0].gate, rows: nil, vectors: 3, accumulate: false, seed: 1, on: target)
        let down = try matmul(model.layers[5].down, rows: nil, vectors: 11, accumulate: true, seed: 2, on: target)
        let wide = try matmul(model.layers[9].key, rows: nil, vectors: 70, accumulate: false, seed: 3, on: target)  // two grid columns
        report(target, "matmul q4_1 (gate, down +=, k × 70)", max(gate, down, wide))
        #expect(gate < 1e-10 && down < 1e-10 && wide < 1e-10, "\(gate) \(down) \(wide)")
    }

    @Test(arguments: GPUFixture.devices) func matmulQ8_0MatchesTheCPUOnTheEmbedding(on target: TestDevice) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let head = try matmul(model.outputHead, rows: 1000, vectors: 5, accumulate: false, seed: 4, on: target)
        let added = try matmul(model.outputHead, rows: 77, vectors: 9, accumulate: true, seed: 5, on: target)
        report(target, "matmul q8_0 (head rows)", max(head, added))
        #expect(head < 1e-10 && added < 1e-10, "\(head) \(added)")
    }

    @Test(arguments: GPUFixture.devices) func rmsNormQuantizeMatchesTheCPU(on target: TestDevice) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let weight = Array(backend.model.layers[3].ffnNorm)
        var rng = SeededGenerator(seed: 6)
        let x = (0..<(4 * d)).map { _ in Float.random(in: -3...3, using: &rng) }
        let rows: [Int32] = [2, 0, 3]
        var expected = [Float](repeating: 0, count: rows.count * d)
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { w in
                for (i, r) in rows.enumerated() {
                    backend.forward.normalize(UnsafeMutablePointer(mutating: xs.baseAddress! + Int(r) * d), w, into: &expected[i * d])
                }
            }
        }
        let a = DeviceArrays(target.device)
        let out = try a.zeros(Float.self, rows.count * d), xq = try a.zeros(UInt8.self, rows.count * d / 32 * 48)
        try a.device.launch(.rmsNormQuantize, GPUBackend.rows(rows.count),
                            [.buffer(try a.put(x)), .buffer(try a.put(rows)), .buffer(try a.put(weight)), .int32(Int32(d)),
                             .float(backend.config.rmsEpsilon), .buffer(out), .buffer(xq)])
        let gpu = try a.get(out, rows.count * d, as: Float.self), floats = nmse(gpu, expected)
        let blocks = try a.get(xq, rows.count * d / 32 * 48, as: UInt8.self)
        report(target, "rmsnorm", floats)
        report(target, "rmsnorm quantized", nmse(dequantizedBlocks(blocks), dequantizedBlocks(cpuQuantized(expected, rows: rows.count, k: d))))
        #expect(floats < 1e-12)
        #expect(blocks == cpuQuantized(gpu, rows: rows.count, k: d), "the blocks are not the CPU's quantization of the kernel's floats")
    }

    @Test(arguments: GPUFixture.devices) func swigluQuantizeMatchesTheCPU(on target: TestDevice) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let ff = backend.config.feedForwardLength, t = 3
        var rng = SeededGenerator(seed: 7)
        let ffn = (0..<(t * 2 * ff)).map { _ in Float.random(in: -6...6, using: &rng) }
        var expected = [Float](repeating: 0, count: t * ff)
        for i in 0..<t {
            var gate = Array(ffn[(2 * i * ff)..<(2 * i * ff + ff)]), up = Array(ffn[(2 * i * ff + ff)..<(2 * i + 2) * ff])
            backend.forward.swiglu(&gate, &up, count: ff)
            expected.replaceSubrange(i * ff..<(i + 1) * ff, with: gate)
        }
        let a = DeviceArrays(target.device)
        let fb = try a.put(ffn), out = try a.zeros(Float.self, t * ff), xq = try a.zeros(UInt8.self, t * ff / 32 * 48)
        try a.device.launch(.swigluQuantize, GPUBackend.rows(t),
                            [.buffer(fb), .pointer(fb, offset: 4 * ff), .int32(Int32(2 * ff)), .int32(Int32(ff)), .buffer(out), .buffer(xq)])
        try expectFloatsAndBlocks(target, "swiglu", a, floats: out, blocks: xq, expected: expected, rows: t, k: ff, tolerance: 1e-12)
    }

    /// A fused kernel's float output against `expected`, and its quantized copy against the CPU's
    /// quantization of those very floats (so only the kernel's quantizer is judged there).
    func expectFloatsAndBlocks(_ target: TestDevice, _ name: String, _ a: DeviceArrays, floats out: DeviceBuffer, blocks xq: DeviceBuffer,
                               expected: [Float], rows: Int, k: Int, tolerance: Double) throws {
        let gpu = try a.get(out, rows * k, as: Float.self), floats = nmse(gpu, expected)
        let blocks = try a.get(xq, rows * k / 32 * 48, as: UInt8.self)
        report(target, name, floats)
        report(target, name + " quantized", nmse(dequantizedBlocks(blocks), dequantizedBlocks(cpuQuantized(expected, rows: rows, k: k))))
        #expect(floats < tolerance)
        #expect(blocks == cpuQuantized(gpu, rows: rows, k: k), "the blocks are not the CPU's quantization of the kernel's floats")
    }

    /// Gate and up of a model layer (rows interleaved as GPUWeights uploads them) with SwiGLU and its
    /// quantization fused, against the CPU's dot products and swiglu; 11 vectors span two tiles.
    @Test(arguments: GPUFixture.devices) func matmulSwiGLUMatchesTheCPU(on target: TestDevice) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let backend = try #require(SharedModel.native)
        let layer = model.layers[7], ff = layer.gate.rows, nv = 11, nb = d / 32
        var rng = SeededGenerator(seed: 13)
        let x = (0..<(nv * d)).map { _ in Float.random(in: -3...3, using: &rng) }
        let xq = cpuQuantized(x, rows: nv, k: d)
        var expected = [Float](repeating: 0, count: nv * ff)
        xq.withUnsafeBytes { xb in
            for v in 0..<nv {
                let xv = xb.baseAddress! + v * nb * ReferenceKernels.q8BlockBytes
                var gate = (0..<ff).map { ReferenceKernels.dotQ8(.q4_1, row: layer.gate.data.baseAddress! + $0 * nb * 20, k: d, x: xv) }
                var up = (0..<ff).map { ReferenceKernels.dotQ8(.q4_1, row: layer.up.data.baseAddress! + $0 * nb * 20, k: d, x: xv) }
                backend.forward.swiglu(&gate, &up, count: ff)
                expected.replaceSubrange(v * ff..<(v + 1) * ff, with: gate)
            }
        }
        let a = DeviceArrays(target.device)
        let out = try a.zeros(Float.self, nv * ff), hq = try a.zeros(UInt8.self, nv * ff / 32 * 48)
        try a.device.launch(.matmulSwiGLU, GPUBackend.swigluShape(feedForward: ff, vectors: nv),
                            [.buffer(try a.put(GPUWeights.interleaved(layer.gate.data, layer.up.data, rows: ff))), .int32(3), .int32(Int32(ff)),
                             .int32(Int32(d)), .buffer(try a.put(xq)), .int32(Int32(nv)), .buffer(out), .buffer(hq)])
        try expectFloatsAndBlocks(target, "matmul gate|up + swiglu", a, floats: out, blocks: hq, expected: expected, rows: nv, k: ff, tolerance: 1e-10)
    }

    /// F32, F16 (synthetic tables), Q4_1 (a model matrix's rows) and Q8_0 (the model's embedding).
    @Test(arguments: GPUFixture.devices) func embedMatchesTheCPUForEveryType(on target: TestDevice) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        var rng = SeededGenerator(seed: 8)
        let floats = (0..<(10 * 64)).map { _ in Float.random(in: -2...2, using: &rng) }
        let halves = floats.map { Float16($0).bitPattern }
        let tables: [(GGMLType, [UInt8], cols: Int, tokens: [Int32])] = [
            (.f32, floats.withUnsafeBytes { Array($0) }, 64, [3, 0, 9]),
            (.f16, halves.withUnsafeBytes { Array($0) }, 64, [9, 1]),
            (.q4_1, Array(model.layers[0].gate.data), d, [0, 1535, 17]),
            (.q8_0, Array(model.tokenEmbedding.data), d, [0, 49151, 1234, 2]),
        ]
        for (type, bytes, cols, tokens) in tables {
            let rowBytes = try #require(type.byteCount(elements: cols))
            var expected = [Float](repeating: 0, count: tokens.count * cols)
            bytes.withUnsafeBytes { raw in
                for (i, token) in tokens.enumerated() {
                    ReferenceKernels.dequantizeRow(type, raw, row: Int(token), k: cols, into: &expected[i * cols])
                }
            }
            let a = DeviceArrays(target.device)
            let x = try a.zeros(Float.self, tokens.count * cols)
            try a.device.launch(.embed, GPUBackend.rows(tokens.count),
                                [.buffer(try a.put(bytes)), .int32(Int32(type.rawValue)), .int32(Int32(rowBytes)), .int32(Int32(cols)),
                                 .buffer(try a.put(tokens)), .buffer(x)])
            let error = nmse(try a.get(x, tokens.count * cols, as: Float.self), expected)
            report(target, "embed \(type)", error)
            #expect(error < 1e-12, "\(type): \(error)")  // exact on the emulator; a GPU may fuse q·d + m
        }
    }

    @Test(arguments: GPUFixture.devices) func argmaxPicksTheFirstLargestLikeTheHost(on target: TestDevice) throws {
        let n = 3000
        var rng = SeededGenerator(seed: 9)
        var rows = (0..<4).map { _ in (0..<n).map { _ in Float.random(in: -8...8, using: &rng) } }
        rows[1][2500] = 20
        rows[1][700] = 20  // a tie: the first wins
        rows[2] = [Float](repeating: -.infinity, count: n)
        rows[3][0] = .nan
        rows[3][n - 1] = 30
        let a = DeviceArrays(target.device)
        let out = try a.zeros(Int32.self, rows.count)
        try a.device.launch(.argmax, GPUBackend.rows(rows.count), [.buffer(try a.put(rows.flatMap { $0 })), .int32(Int32(n)), .buffer(out)])
        #expect(try a.get(out, rows.count, as: Int32.self) == rows.map { TokenChoice.greedy.pick($0) })
    }

    @Test(arguments: GPUFixture.devices) func sampleDrawsTheHostsToken(on target: TestDevice) throws {
        let n = 5000
        var rng = SeededGenerator(seed: 10)
        let rows = (0..<6).map { _ in (0..<n).map { _ in Float.random(in: -6...6, using: &rng) } }
        let temperatures: [Float] = [0.7, 1.0, 1.5, 0, 0.2, 1.0], uniforms: [Float] = [0.1, 0.5, 0.93, 0.3, 0.999, 0]
        let a = DeviceArrays(target.device)
        let out = try a.zeros(Int32.self, rows.count)
        try a.device.launch(.sample, GPUBackend.rows(rows.count),
                            [.buffer(try a.put(rows.flatMap { $0 })), .int32(Int32(n)), .buffer(try a.put(temperatures)),
                             .buffer(try a.put(uniforms)), .buffer(out)])
        let expected = rows.indices.map { i in
            (temperatures[i] > 0 ? TokenChoice.sample(temperature: temperatures[i], uniform: uniforms[i]) : .greedy).pick(rows[i])
        }
        #expect(try a.get(out, rows.count, as: Int32.self) == expected)
    }
}
