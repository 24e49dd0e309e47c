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

    /// RoPE, llama.cpp's NORM style: rotate consecutive pairs (x[2i], x[2i+1]) of each head by p·θ^(−2i/hd).
    func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let hd = model.config.headDimension, half = hd / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hd) { cs in
            for i in 0..<half {
                let angle = Float(position) * inverseFrequency(i)
                cs[2 * i] = cosf(angle)
                cs[2 * i + 1] = sinf(angle)
            }
            for h in 0..<heads {
                let v = x + h * hd
                for i in 0..<half {
                    let (a, b, cos, sin) = (v[2 * i], v[2 * i + 1], cs[2 * i], cs[2 * i + 1])
                    v[2 * i] = a * cos - b * sin
                    v[2 * i + 1] = a * sin + b * cos
                }
            }
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
