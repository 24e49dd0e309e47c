// RoPE on a pass's queries and keys, and the keys and values stored as halves in their paged KV blocks.
//
// Launch: one block per token (any thread count). The q, k and v of token t are one row of `qkv`
// (stride ld floats): q at 0, k at q_dim, v at q_dim + kv_dim. Queries are rotated in place (attention
// reads them there); keys and values go to the token's slot: position p of its sequence lives in block
// table[p / block_size] at row p % block_size, the layer's keys at `layer` halves into the block, its
// values value_offset halves after the keys (KVArena's layout).
#include "common.cuh"

/// Rotates the pair (x[r], x[r+1]) of a head by p · inv_freq[(r % head_dim) / 2] (llama.cpp's NORM
/// style, the CPU's `rotate`).
WK_DEVICE void wk_rope_pair(float *a, float *b, int r, int head_dim, int p, const float *inv_freq) {
    const float angle = (float)p * inv_freq[(r % head_dim) / 2];
    const float cs = cosf(angle), sn = sinf(angle), x0 = *a, x1 = *b;
    *a = x0 * cs - x1 * sn;
    *b = x0 * sn + x1 * cs;
}

WK_KERNEL void wk_rope_store_kv(float *WK_RESTRICT qkv, int ld, int q_dim, int kv_dim, int head_dim,
                                const float *WK_RESTRICT inv_freq, const int *WK_RESTRICT positions,
                                const int *WK_RESTRICT table_start, const int *WK_RESTRICT tables,
                                wk_f16 *WK_RESTRICT arena, int block_size, int block_stride, int layer, int value_offset) {
    const int t = (int)blockIdx.x, p = positions[t];
    const int tid = (int)(threadIdx.y * blockDim.x + threadIdx.x), threads = (int)(blockDim.x * blockDim.y);
    float *row = qkv + (wk_i64)t * ld;
    wk_f16 *slot = arena + wk_kv_row(tables + table_start[t], p, block_size, block_stride, layer, kv_dim);
    for (int i = tid; i < (q_dim + kv_dim) / 2; i += threads) {
        const int r = 2 * i;
        if (r < q_dim) {
            wk_rope_pair(row + r, row + r + 1, r, head_dim, p, inv_freq);
        } else {
            const int kr = r - q_dim;
            float a = row[r], b = row[r + 1];
            wk_rope_pair(&a, &b, kr, head_dim, p, inv_freq);
            slot[kr] = wk_f2h(a);
            slot[kr + 1] = wk_f2h(b);
        }
    }
    for (int i = tid; i < kv_dim; i += threads) slot[value_offset + i] = wk_f2h(row[q_dim + kv_dim + i]);
}
