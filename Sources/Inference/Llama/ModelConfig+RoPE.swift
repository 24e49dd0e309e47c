#if canImport(Glibc)
import Glibc
#endif

extension ModelConfig {
    /// RoPE's inverse frequencies θ^(−2i/hd) for i < hd/2, in double precision then rounded (the CPU
    /// engine's table, shared so the GPU rotates by the very same angles).
    var ropeInverseFrequencies: [Float] {
        (0..<headDimension / 2).map { i in Float(pow(Double(ropeTheta), -2 * Double(i) / Double(headDimension))) }
    }
}
