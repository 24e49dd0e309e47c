import CInferenceKernels

/// Plain-Swift reference implementations of every numeric kernel, on the GGUF block layouts:
/// dequantization of F32/F16/Q4_1/Q8_0 rows, activation quantization to int8 blocks, and the
/// quantized dot products. The C kernels are tested against these; the backend can also run on them
/// (`CPUBackend.Kernels.swift`) so BENCHMARKS.md can compare the two.
public enum ReferenceKernels {
    /// Bytes of one activation block (`wk_block_q8`: f32 d, f32 s, i32 qsum, pad, i8 qs[32]).
    public static let q8BlockBytes = MemoryLayout<wk_block_q8>.stride
    static let q8QsOffset = 16

    /// IEEE half to single.
    @inline(__always) public static func half(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// Dequantizes row `row` (of `k` elements) of a matrix stored as `type` into `out`.
    public static func dequantizeRow(
        _ type: GGMLType, _ data: UnsafeRawBufferPointer, row: Int, k: Int, into out: UnsafeMutablePointer<Float>
    ) {
        guard let base = data.baseAddress, let rowBytes = type.byteCount(elements: k) else { return }
        let p = base + row * rowBytes
        switch type {
        case .f32:
            for i in 0..<k { out[i] = p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<k { out[i] = half(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .q4_1:
            for b in 0..<k / 32 {
                let blk = p + 20 * b
                let d = half(blk.loadUnaligned(as: UInt16.self)), m = half(blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                for j in 0..<16 {
                    let q = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
                    out[32 * b + j] = Float(q & 0x0F) * d + m
                    out[32 * b + j + 16] = Float(q >> 4) * d + m
                }
            }
        case .q8_0:
            for b in 0..<k / 32 {
                let blk = p + 34 * b
                let d = half(blk.loadUnaligned(as: UInt16.self))
                for j in 0..<32 { out[32 * b + j] = Float(blk.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
            }
        default:
            for i in 0..<k { out[i] = .nan }  // never reached: Weights refuses unimplemented types
        }
    }

    /// Quantizes `k` floats into k/32 activation blocks at `out` (same rounding as `wk_quantize_q8`).
    public static func quantizeQ8(_ x: UnsafePointer<Float>, k: Int, into out: UnsafeMutableRawPointer) {
        for b in 0..<k / 32 {
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(x[32 * b + j])) }
            let d = amax / 127, id = d > 0 ? 1 / d : 0
            let blk = out + b * q8BlockBytes
            var sum: Int32 = 0
            for j in 0..<32 {
                let q = Int8((x[32 * b + j] * id).rounded(.toNearestOrAwayFromZero))
                blk.storeBytes(of: q, toByteOffset: q8QsOffset + j, as: Int8.self)
                sum += Int32(q)
            }
            blk.storeBytes(of: Float(Float16(d)), as: Float.self)  // f16-rounded scales, as llama.cpp's block_q8_1
            blk.storeBytes(of: Float(Float16(d * Float(sum))), toByteOffset: 4, as: Float.self)
            blk.storeBytes(of: sum, toByteOffset: 8, as: Int32.self)
            blk.storeBytes(of: 0, toByteOffset: 12, as: Int32.self)
        }
    }

    /// Dot product of a GGUF Q4_1 or Q8_0 row with one quantized activation vector.
    @inline(__always)
    public static func dotQ8(_ type: GGMLType, row p: UnsafeRawPointer, k: Int, x: UnsafeRawPointer) -> Float {
        var acc: Float = 0
        for b in 0..<k / 32 {
            let xb = x + b * q8BlockBytes
            let xd = xb.load(as: Float.self), xq = xb + q8QsOffset
            var isum: Int32 = 0
            if type == .q4_1 {
                let blk = p + 20 * b
                for j in 0..<16 {
                    let q = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
                    isum &+= Int32(q & 0x0F) * Int32(xq.load(fromByteOffset: j, as: Int8.self))
                    isum &+= Int32(q >> 4) * Int32(xq.load(fromByteOffset: j + 16, as: Int8.self))
                }
                let d = half(blk.loadUnaligned(as: UInt16.self)), m = half(blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                acc += Float(isum) * (d * xd) + m * xb.load(fromByteOffset: 4, as: Float.self)
            } else {
                let blk = p + 34 * b
                for j in 0..<32 {
                    isum &+= Int32(blk.load(fromByteOffset: 2 + j, as: Int8.self)) * Int32(xq.load(fromByteOffset: j, as: Int8.self))
                }
                acc += Float(isum) * (half(blk.loadUnaligned(as: UInt16.self)) * xd)
            }
        }
        return acc
    }

    /// Float dot product of a row of any implemented type with float activations (F32/F16 weights).
    public static func dotFloat(
        _ type: GGMLType, _ data: UnsafeRawBufferPointer, row: Int, k: Int, x: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) -> Float {
        dequantizeRow(type, data, row: row, k: k, into: scratch)
        var acc: Float = 0
        for i in 0..<k { acc += scratch[i] * x[i] }
        return acc
    }
}
