// Token embedding rows dequantized into the residual stream.
//
// Launch: one block per token (any thread count). `type` is the GGML type id (0 F32, 1 F16, 3 Q4_1,
// 8 Q8_0) and row_bytes the bytes of one row; element order and arithmetic are ReferenceKernels'
// dequantizeRow's.
#include "common.cuh"

WK_DEVICE float wk_embed_value(const wk_u8 *row, int type, int i) {
    switch (type) {
    case 0: return ((const float *)row)[i];
    case 1: return wk_h2f(((const wk_f16 *)row)[i]);
    case 3: {
        const wk_u8 *blk = row + (i / 32) * 20;
        const int j = i % 32, byte = blk[4 + (j % 16)];
        const float d = wk_h2f((wk_f16)wk_load_u16(blk)), m = wk_h2f((wk_f16)wk_load_u16(blk + 2));
        return (float)(j < 16 ? byte & 0x0F : byte >> 4) * d + m;
    }
    case 8: {
        const wk_u8 *blk = row + (i / 32) * 34;
        return (float)(wk_i8)blk[2 + i % 32] * wk_h2f((wk_f16)wk_load_u16(blk));
    }
    default: return 0.0f;
    }
}

/// x[t] = row tokens[t] of the table (n elements).
WK_KERNEL void wk_embed(const wk_u8 *WK_RESTRICT table, int type, int row_bytes, int n, const int *WK_RESTRICT tokens,
                        float *WK_RESTRICT x) {
    const int t = (int)blockIdx.x;
    const int tid = (int)(threadIdx.y * blockDim.x + threadIdx.x), threads = (int)(blockDim.x * blockDim.y);
    const wk_u8 *row = table + (wk_i64)tokens[t] * row_bytes;
    for (int i = tid; i < n; i += threads) x[(wk_i64)t * n + i] = wk_embed_value(row, type, i);
}
