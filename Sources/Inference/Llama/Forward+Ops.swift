#if canImport(Glibc)
import Glibc
#endif

/// The elementwise operations of the forward pass, on one position's vectors.
extension LlamaForward {
    /// x = token_embd row `token` (dequantized).
    func embed(token: Int, into x: UnsafeMutablePointer<Float>) {
        let e = model.tokenEmbedding
        ReferenceKernels.dequantizeRow(e.type, e.data, row: token, k: e.cols, into: x)
    }

    /// out = x / sqrt(mean(x²) + eps) ⊙ weight.
    func normalize(_ x: UnsafeMutablePointer<Float>, _ weight: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let n = weight.count
        var sum: Float = 0
        for i in 0..<n { sum += x[i] * x[i] }
        let scale = 1 / (sum / Float(n) + model.config.rmsEpsilon).squareRoot()
        for i in 0..<n { out[i] = x[i] * scale * weight[i] }
    }

    /// (cos, sin) of p·θ^(−2i/hd) for each rotated pair i of a head, for one position.
    func ropeTable(position: Int, into table: UnsafeMutablePointer<Float>) {
        for i in 0..<model.config.headDimension / 2 {
            let angle = Float(position) * inverseFrequency(i)
            table[2 * i] = cosf(angle)
            table[2 * i + 1] = sinf(angle)
        }
    }

    /// RoPE, llama.cpp's NORM style, on rows `rows` (even bounds) of a q or k vector: rotate each
    /// consecutive pair (x[2i], x[2i+1]) of a head by its angle from `table`.
    func rotate(_ x: UnsafeMutablePointer<Float>, rows: Range<Int>, table: UnsafeMutablePointer<Float>) {
        let hd = model.config.headDimension
        for r in stride(from: rows.lowerBound, to: rows.upperBound, by: 2) {
            let i = r % hd  // 2 × the pair index within the head
            let (a, b, cos, sin) = (x[r], x[r + 1], table[i], table[i + 1])
            x[r] = a * cos - b * sin
            x[r + 1] = a * sin + b * cos
        }
    }

    /// gate = silu(gate) ⊙ up, silu(z) = z / (1 + e^(−z)).
    func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { gate[i] = gate[i] / (1 + expf(-gate[i])) * up[i] }
    }

    /// x += delta.
    func add(_ delta: UnsafeMutablePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += delta[i] }
    }
}
