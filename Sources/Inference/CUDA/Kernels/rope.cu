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

/// The attention projections, RoPE and the KV store in one launch: the stacked Q|K|V matrix (q_dim +
/// 2 kv_dim rows) times the tokens' activation blocks, as wk_matmul; then each rotated pair (rows 2i,
/// 2i+1, held by neighbouring lane groups, so one shuffle brings the partner) is written as a query
/// (floats, into row v of qkv with stride ld) or, for keys and values, as halves into token v's slot of
/// the paged arena (wk_rope_store_kv's layout and arithmetic; matmul.cu's tiles). Block (32, W), grid (ceil(rows / 8W),
/// ceil(nv / 64)). type: 3 Q4_1, 8 Q8_0.
WK_KERNEL void wk_matmul_rope_store_dp4a(const wk_u8 *WK_RESTRICT w, int type, int q_dim, int kv_dim, int k,
                                         const wk_block_q8 *WK_RESTRICT x, int nv, float *WK_RESTRICT qkv, int ld,
                                         int head_dim, const float *WK_RESTRICT inv_freq, const int *WK_RESTRICT positions,
                                         const int *WK_RESTRICT table_start, const int *WK_RESTRICT tables,
                                         wk_f16 *WK_RESTRICT arena, int block_size, int block_stride, int layer, int value_offset) {
    const int rows = q_dim + 2 * kv_dim, c = wk_lane() & 3;
    const int row = (int)(blockIdx.x * blockDim.y + threadIdx.y) * 8 + (wk_lane() >> 2);
    const bool odd = (row & 1) != 0;
    for (int v0 = (int)blockIdx.y * WK_MM_TILE; v0 < nv; v0 += (int)gridDim.y * WK_MM_TILE) {
        float acc[WK_MM_TILE], sums[2];
        wk_mm_tile(type, w, row < rows ? row : 0, k / 32, x, v0, nv, acc);
        wk_mm_reduce(acc, sums);
        // The partner row (row ^ 1) is 4 lanes away and holds the same two vectors.
        const float partner[2] = {wk_shfl_xor(sums[0], 4), wk_shfl_xor(sums[1], 4)};
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int v = v0 + 2 * c + i;
            if (row >= rows || v >= nv) continue;
            const int p = positions[v];
            float value = sums[i];
            if (row < q_dim + kv_dim) {
                float a = odd ? partner[i] : sums[i], b = odd ? sums[i] : partner[i];
                wk_rope_pair(&a, &b, row & ~1, head_dim, p, inv_freq);
                value = odd ? b : a;
            }
            if (row < q_dim) {
                qkv[(wk_i64)v * ld + row] = value;
            } else {
                wk_f16 *slot = arena + wk_kv_row(tables + table_start[v], p, block_size, block_stride, layer, kv_dim);
                const int r = row - q_dim;
                slot[r < kv_dim ? r : value_offset + r - kv_dim] = wk_f2h(value);
            }
        }
    }
}
