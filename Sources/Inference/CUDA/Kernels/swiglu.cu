// The feed-forward activation: silu(gate) ⊙ up, written as floats and as activation blocks.
//
// Launch: one block of (32, W) threads per token; warp w takes 32-element blocks w, w + W, ...
#include "common.cuh"

/// out[t] = gate[t] / (1 + e^-gate[t]) * up[t] (n floats; gate and up rows have stride ld), and xq[t].
WK_KERNEL void wk_swiglu_quantize(const float *WK_RESTRICT gate, const float *WK_RESTRICT up, int ld, int n,
                                  float *WK_RESTRICT out, wk_block_q8 *WK_RESTRICT xq) {
    const int warp = (int)threadIdx.y, warps = (int)blockDim.y, lane = wk_lane(), t = (int)blockIdx.x;
    for (int b = warp; b < n / 32; b += warps) {
        const int i = 32 * b + lane;
        const float g = gate[(wk_i64)t * ld + i];
        const float h = g / (1.0f + expf(-g)) * up[(wk_i64)t * ld + i];
        out[(wk_i64)t * n + i] = h;
        wk_quantize_block(h, xq + (wk_i64)t * (n / 32) + b);
    }
}
