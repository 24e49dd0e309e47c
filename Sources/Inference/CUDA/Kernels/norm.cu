// RMSNorm fused with activation quantization, and plain quantization of float rows.
//
// Launch: one block of (32, W) threads per output row; warp w takes 32-element blocks w, w + W, ...
// one element per lane, so each block is quantized inside one warp (wk_quantize_block).
#include "common.cuh"

/// out[i] = rmsnorm(x[rows[i]]) ⊙ weight (n floats), also as n/32 activation blocks in xq[i].
/// `rows` picks the input rows (the identity for a layer, the positions asked for logits at the end).
WK_KERNEL void wk_rmsnorm_quantize(const float *WK_RESTRICT x, const int *WK_RESTRICT rows, const float *WK_RESTRICT weight,
                                   int n, float eps, float *WK_RESTRICT out, wk_block_q8 *WK_RESTRICT xq) {
    WK_SHARED float partial[32];
    const int warp = (int)threadIdx.y, warps = (int)blockDim.y, lane = wk_lane();
    const int tid = warp * WK_WARP + lane, threads = warps * WK_WARP;
    const float *xr = x + (wk_i64)rows[blockIdx.x] * n;
    float ss = 0.0f;
    for (int i = tid; i < n; i += threads) ss += xr[i] * xr[i];
    ss = wk_warp_sum(ss);
    if (lane == 0) partial[warp] = ss;
    wk_sync();
    float total = 0.0f;
    for (int w = 0; w < warps; w++) total += partial[w];
    const float scale = 1.0f / sqrtf(total / (float)n + eps);
    float *o = out + (wk_i64)blockIdx.x * n;
    wk_block_q8 *q = xq + (wk_i64)blockIdx.x * (n / 32);
    for (int b = warp; b < n / 32; b += warps) {
        const int i = 32 * b + lane;
        const float v = xr[i] * scale * weight[i];
        o[i] = v;
        wk_quantize_block(v, q + b);
    }
}

/// xq[r] = the n/32 activation blocks of row r of x (stride ldx floats), for blockIdx.x = r.
WK_KERNEL void wk_quantize_q8_rows(const float *WK_RESTRICT x, int ldx, int n, wk_block_q8 *WK_RESTRICT xq) {
    const int warp = (int)threadIdx.y, warps = (int)blockDim.y, lane = wk_lane();
    const float *xr = x + (wk_i64)blockIdx.x * ldx;
    wk_block_q8 *q = xq + (wk_i64)blockIdx.x * (n / 32);
    for (int b = warp; b < n / 32; b += warps) wk_quantize_block(xr[32 * b + lane], q + b);
}
