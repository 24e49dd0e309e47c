/// The GPU kernels, by their `extern "C"` names in `CUDA/Kernels/*.cu` (CONTRACT).
///
/// Every case is a `__global__` function in the kernel source; a test checks that each one is in the
/// committed PTX (`.entry` lines) and in the emulator's registry. The signatures live beside each
/// kernel in the source; the backend passes ``KernelArgument``s in that order. Names must not clash
/// with CInferenceKernels' C symbols (the emulator links both into one test binary), hence the `_rows`
/// and `_dp4a` suffixes where the CPU kernels use the plain names.
///
/// A layer of ``GPUBackend`` is 7 launches when Q|K|V and gate|up each share a type (every GGUF the
/// tests know): rmsNormQuantize, matmulRopeStoreKV, attention, matmul (O, added into x),
/// rmsNormQuantize, matmulSwiGLU, matmul (down, added into x). ropeStoreKV, swigluQuantize and
/// quantize are the steps of the unfused path (mixed types, or head dimensions not a multiple of 32).
public enum Kernel: String, CaseIterable, Sendable {
    /// Token embedding rows (F32, F16, Q4_1 or Q8_0) dequantized into the residual stream.
    case embed = "wk_embed"
    /// RMSNorm of chosen rows times a weight, written as floats and as int8 activation blocks.
    case rmsNormQuantize = "wk_rmsnorm_quantize"
    /// Float rows quantized into int8 activation blocks.
    case quantize = "wk_quantize_q8_rows"
    /// Q4_1 weights × several int8 activation vectors (dp4a), optionally added into the output.
    case matmulQ4_1 = "wk_matmul_q4_1_dp4a"
    /// Q8_0 weights × several int8 activation vectors (dp4a), optionally added into the output.
    case matmulQ8_0 = "wk_matmul_q8_0_dp4a"
    /// Gate and up projections (Q4_1 or Q8_0, rows interleaved in 32-row chunks), silu(gate) ⊙ up and
    /// its activation blocks, in one launch.
    case matmulSwiGLU = "wk_matmul_swiglu_dp4a"
    /// RoPE on queries and keys, keys and values written in half precision into their paged KV blocks
    /// (after separate Q, K and V matmuls).
    case ropeStoreKV = "wk_rope_store_kv"
    /// Q|K|V projections (one stacked Q4_1 or Q8_0 matrix), RoPE, queries written as floats and keys and
    /// values as halves into their paged KV blocks, in one launch.
    case matmulRopeStoreKV = "wk_matmul_rope_store_dp4a"
    /// Each query head over its sequence's cached positions (paged KV, causal, online softmax).
    case attention = "wk_attention"
    /// silu(gate) ⊙ up, quantized into int8 activation blocks (after separate gate and up matmuls).
    case swigluQuantize = "wk_swiglu_quantize"
    /// Index of each logits row's largest value (first on ties).
    case argmax = "wk_argmax"
    /// A token drawn from softmax(logits / temperature) with a given uniform number per row.
    case sample = "wk_sample"
}
