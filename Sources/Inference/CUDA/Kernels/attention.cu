// Attention of each query head of each token over its sequence's cached positions 0...p (causal),
// read from the paged half-precision KV arena through the sequence's block table; grouped-query heads
// share their KV head (kv head = head / group).
//
// Launch: grid (heads, tokens), block (32, W), dynamic shared memory wk_attention_shared_floats(hd, W)
// floats. Warp w takes chunks of 32 positions w, w + W, ... (flash-decoding inside the block): each
// lane scores one position (its key row read with 16-byte loads), the warp keeps an online softmax
// (running max m, sum l, and each lane's head dimensions lane + 32i of Σ e^(s_j - m) v_j), and at the
// end the W partial results are merged. When head_dim is a multiple of 32 the head's output blocks
// belong to it alone and are quantized here (quantize = 1); otherwise wk_quantize_q8_rows runs afterwards.
#include "common.cuh"

#define WK_ATT_MAX_PER_LANE 16  // head_dim <= 512 (ModelConfig.validate)

/// q · k for a key row of head_dim halves (q in shared memory).
WK_DEVICE float wk_att_score(const float *q, const wk_f16 *k, int head_dim) {
    float dot = 0.0f;
    if (head_dim % 8 == 0) {
        const wk_v4 *k4 = (const wk_v4 *)k;
        for (int c = 0; c < head_dim / 8; c++) {
            const wk_v4 v = k4[c];
            const wk_u32 words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int e = 0; e < 4; e++) {
                dot += q[8 * c + 2 * e] * wk_h2f((wk_f16)(words[e] & 0xFFFF));
                dot += q[8 * c + 2 * e + 1] * wk_h2f((wk_f16)(words[e] >> 16));
            }
        }
    } else {
        for (int i = 0; i < head_dim; i++) dot += q[i] * wk_h2f(k[i]);
    }
    return dot;
}

WK_KERNEL void wk_attention(const float *WK_RESTRICT qkv, int ld, int head_dim, int group,
                            const int *WK_RESTRICT positions, const int *WK_RESTRICT table_start,
                            const int *WK_RESTRICT tables, const wk_f16 *WK_RESTRICT arena, int block_size,
                            int block_stride, int layer, int value_offset, int kv_dim, float scale,
                            float *WK_RESTRICT out, int ld_out, wk_block_q8 *WK_RESTRICT xq, int quantize) {
    WK_DYNAMIC_SHARED(float, shared);
    const int h = (int)blockIdx.x, t = (int)blockIdx.y, lane = wk_lane();
    const int warp = (int)threadIdx.y, warps = (int)blockDim.y;
    const int n = positions[t] + 1, per_lane = (head_dim + 31) / 32;
    const int *table = tables + table_start[t];
    const int column = layer + (h / group) * head_dim;
    // Shared: q [head_dim], p [warps × 32], (m, l) [warps × 2], acc [warps × head_dim].
    float *q = shared, *p = q + head_dim, *ml = p + warps * 32, *acc_s = ml + 2 * warps;
    for (int i = warp * 32 + lane; i < head_dim; i += warps * 32) q[i] = qkv[(wk_i64)t * ld + h * head_dim + i];
    wk_sync();

    float m = WK_NEG_INF, l = 0.0f, acc[WK_ATT_MAX_PER_LANE];
#pragma unroll
    for (int i = 0; i < WK_ATT_MAX_PER_LANE; i++) acc[i] = 0.0f;
    const int rounds = (n + 32 * warps - 1) / (32 * warps);
    for (int r = 0; r < rounds; r++) {
        const int first = (r * warps + warp) * 32, j = first + lane;
        const float s = j < n ? wk_att_score(q, arena + wk_kv_row(table, j, block_size, block_stride, column, kv_dim), head_dim) * scale
                              : WK_NEG_INF;
        const float top = wk_warp_max(s), next = top > m ? top : m;
        // A chunk past the end leaves everything as it was (no e^(-inf + inf)).
        const float e = j < n ? expf(s - next) : 0.0f;
        const float keep = m == next ? 1.0f : expf(m - next);
        l = l * keep + wk_warp_sum(e);
        p[warp * 32 + lane] = e;
        wk_sync();
        const int count = n - first < 32 ? n - first : 32;
#pragma unroll
        for (int i = 0; i < WK_ATT_MAX_PER_LANE; i++) acc[i] *= keep;
        for (int jj = 0; jj < count; jj++) {
            const wk_f16 *v = arena + wk_kv_row(table, first + jj, block_size, block_stride, column, kv_dim) + value_offset;
            const float pj = p[warp * 32 + jj];
#pragma unroll
            for (int i = 0; i < WK_ATT_MAX_PER_LANE; i++) {
                if (i < per_lane && lane + 32 * i < head_dim) acc[i] += pj * wk_h2f(v[lane + 32 * i]);
            }
        }
        m = next;
        wk_sync();
    }
    if (lane == 0) {
        ml[2 * warp] = m;
        ml[2 * warp + 1] = l;
    }
#pragma unroll
    for (int i = 0; i < WK_ATT_MAX_PER_LANE; i++) {
        if (i < per_lane && lane + 32 * i < head_dim) acc_s[warp * head_dim + lane + 32 * i] = acc[i];
    }
    wk_sync();
    if (warp != 0) return;
    // Merge the warps' partial softmaxes (a warp that saw no position has m = -inf and l = 0).
    float top = WK_NEG_INF, total = 0.0f;
    for (int w = 0; w < warps; w++) top = ml[2 * w] > top ? ml[2 * w] : top;
    for (int w = 0; w < warps; w++) total += ml[2 * w + 1] * (ml[2 * w + 1] > 0.0f ? expf(ml[2 * w] - top) : 0.0f);
    float *o = out + (wk_i64)t * ld_out + h * head_dim;
    for (int i = 0; i < per_lane; i++) {
        const int d = lane + 32 * i;
        float sum = 0.0f;
        if (d < head_dim) {
            for (int w = 0; w < warps; w++) {
                if (ml[2 * w + 1] > 0.0f) sum += acc_s[w * head_dim + d] * expf(ml[2 * w] - top);
            }
            sum /= total;
            o[d] = sum;
        }
        if (quantize) wk_quantize_block(sum, xq + ((wk_i64)t * ld_out + h * head_dim) / 32 + i);
    }
}
