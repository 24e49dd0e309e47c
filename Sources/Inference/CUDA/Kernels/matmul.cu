// Quantized weights (GGUF Q4_1 / Q8_0, the file's layout as is) times several int8 activation vectors.
//
// Launch: block (32, W): each warp owns 8 consecutive rows, 4 lanes a row; each lane walks its row's
// 32-element blocks and takes one quarter of each (4 bytes of nibbles for Q4_1, 8 quants for Q8_0),
// so the 4 lanes of a row read one contiguous run of the block. Grid (ceil(rows / 8W), Y): the y-th
// column of blocks takes vector tiles y, y + Y, ... of 8 vectors each; a block's later tiles reuse the
// weights its first one brought into L1, and the columns share them through L2, so a batched decode
// reads each weight byte from memory once per pass (GPUBackend picks Y, see vectorsPerColumn). The 8
// partial sums of a tile leave the 4 lanes in one butterfly (6 shuffles), after which lane c holds
// vectors 2c and 2c + 1 of its row.
//
// y[v * ldy + r] = (accumulate ? y[v * ldy + r] : 0) + row r · x_v, x_v being k/32 blocks. The Q4_1
// nibbles are read 4 bytes a lane and Q8_0's 2 bytes at a time: GGUF's 20- and 34-byte blocks allow
// no wider aligned load without repacking, which the raw upload avoids.
#include "common.cuh"

#define WK_MM_TILE 8

/// Sums a tile's 8 accumulators over the 4 lanes of a row; lane c gets vectors 2c and 2c + 1.
WK_DEVICE void wk_mm_reduce(const float acc[WK_MM_TILE], float out[2]) {
    const int c = wk_lane() & 3;
    const bool hi = (c & 2) != 0, odd = (c & 1) != 0;
    float r[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const float send = hi ? acc[i] : acc[i + 4], keep = hi ? acc[i + 4] : acc[i];
        r[i] = keep + wk_shfl_xor(send, 2);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        const float send = odd ? r[i] : r[i + 2], keep = odd ? r[i + 2] : r[i];
        out[i] = keep + wk_shfl_xor(send, 1);
    }
}

/// Writes lane c's two finished vectors of row `row`.
WK_DEVICE void wk_mm_store(const float sums[2], int row, int rows, int v0, int nv, float *y, int ldy, int accumulate) {
    const int c = wk_lane() & 3;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        const int v = v0 + 2 * c + i;
        if (row < rows && v < nv) {
            float *out = y + (wk_i64)v * ldy + row;
            *out = accumulate ? *out + sums[i] : sums[i];
        }
    }
}

/// Lane c's share of row `wrow` (Q4_1, nb blocks) times vectors v0..v0+7 (those below nv).
WK_DEVICE void wk_mm_tile_q4_1(const wk_u8 *wrow, int nb, const wk_block_q8 *x, int v0, int nv, float acc[WK_MM_TILE]) {
    const int c = wk_lane() & 3;
#pragma unroll
    for (int j = 0; j < WK_MM_TILE; j++) acc[j] = 0.0f;
    for (int b = 0; b < nb; b++) {
        const wk_u8 *blk = wrow + b * 20;
        const wk_u32 dm = *(const wk_u32 *)blk, qw = *(const wk_u32 *)(blk + 4 + 4 * c);
        const float d = wk_h2f((wk_f16)(dm & 0xFFFF)), m = wk_h2f((wk_f16)(dm >> 16));
        const int lo = (int)(qw & 0x0F0F0F0Fu), hi = (int)((qw >> 4) & 0x0F0F0F0Fu);
#pragma unroll
        for (int j = 0; j < WK_MM_TILE; j++) {
            if (v0 + j < nv) {
                const wk_block_q8 *xb = x + (wk_i64)(v0 + j) * nb + b;
                const int *xq = (const int *)xb->qs;
                // Low nibbles are elements 4c..4c+3, high ones 16+4c..16+4c+3 (GGUF Q4_1).
                const int isum = wk_dp4a(lo, xq[c], wk_dp4a(hi, xq[4 + c], 0));
                acc[j] += (float)isum * (d * xb->d) + (c == 0 ? m * xb->s : 0.0f);
            }
        }
    }
}

/// Lane c's share of row `wrow` (Q8_0, nb blocks) times vectors v0..v0+7 (those below nv).
WK_DEVICE void wk_mm_tile_q8_0(const wk_u8 *wrow, int nb, const wk_block_q8 *x, int v0, int nv, float acc[WK_MM_TILE]) {
    const int c = wk_lane() & 3;
#pragma unroll
    for (int j = 0; j < WK_MM_TILE; j++) acc[j] = 0.0f;
    for (int b = 0; b < nb; b++) {
        const wk_u8 *blk = wrow + b * 34, *q = blk + 2 + 8 * c;
        const float d = wk_h2f((wk_f16)wk_load_u16(blk));
        const int q0 = (int)(wk_load_u16(q) | wk_load_u16(q + 2) << 16);
        const int q1 = (int)(wk_load_u16(q + 4) | wk_load_u16(q + 6) << 16);
#pragma unroll
        for (int j = 0; j < WK_MM_TILE; j++) {
            if (v0 + j < nv) {
                const wk_block_q8 *xb = x + (wk_i64)(v0 + j) * nb + b;
                const int *xq = (const int *)xb->qs;
                const int isum = wk_dp4a(q0, xq[2 * c], wk_dp4a(q1, xq[2 * c + 1], 0));
                acc[j] += (float)isum * (d * xb->d);
            }
        }
    }
}

/// The tile of a GGML type id (3 Q4_1, 8 Q8_0).
WK_DEVICE void wk_mm_tile(int type, const wk_u8 *w, int row, int nb, const wk_block_q8 *x, int v0, int nv, float acc[WK_MM_TILE]) {
    if (type == 3) {
        wk_mm_tile_q4_1(w + (wk_i64)row * nb * 20, nb, x, v0, nv, acc);
    } else {
        wk_mm_tile_q8_0(w + (wk_i64)row * nb * 34, nb, x, v0, nv, acc);
    }
}

/// The matmul of one type: rows past the end still take part in the shuffles (they read row 0 and
/// write nothing).
WK_DEVICE void wk_matmul(int type, const wk_u8 *w, int rows, int k, const wk_block_q8 *x, int nv, float *y, int ldy, int accumulate) {
    const int row = (int)(blockIdx.x * blockDim.y + threadIdx.y) * 8 + (wk_lane() >> 2);
    for (int v0 = (int)blockIdx.y * WK_MM_TILE; v0 < nv; v0 += (int)gridDim.y * WK_MM_TILE) {
        float acc[WK_MM_TILE], sums[2];
        wk_mm_tile(type, w, row < rows ? row : 0, k / 32, x, v0, nv, acc);
        wk_mm_reduce(acc, sums);
        wk_mm_store(sums, row, rows, v0, nv, y, ldy, accumulate);
    }
}

WK_KERNEL void wk_matmul_q4_1_dp4a(const wk_u8 *WK_RESTRICT w, int rows, int k, const wk_block_q8 *WK_RESTRICT x, int nv,
                                   float *WK_RESTRICT y, int ldy, int accumulate) {
    wk_matmul(3, w, rows, k, x, nv, y, ldy, accumulate);
}

WK_KERNEL void wk_matmul_q8_0_dp4a(const wk_u8 *WK_RESTRICT w, int rows, int k, const wk_block_q8 *WK_RESTRICT x, int nv,
                                   float *WK_RESTRICT y, int ldy, int accumulate) {
    wk_matmul(8, w, rows, k, x, nv, y, ldy, accumulate);
}

/// The feed-forward gate and up projections, SwiGLU and its quantization in one launch, over a matrix
/// whose rows interleave gate and up in 32-row chunks (chunk i: gate rows 32i..32i+31, then the same up
/// rows; GPUWeights uploads it so). Block (32, 8): warps 0-3 compute a chunk's gate rows, warps 4-7 its
/// up rows, the tile meets in shared memory, and warp j finishes vector j of the tile: 32 outputs
/// silu(g) * u, one activation block. Grid (ff / 32, ceil(nv / 64)). type: 3 Q4_1, 8 Q8_0.
WK_KERNEL void wk_matmul_swiglu_dp4a(const wk_u8 *WK_RESTRICT w, int type, int ff, int k, const wk_block_q8 *WK_RESTRICT x,
                                     int nv, float *WK_RESTRICT out, wk_block_q8 *WK_RESTRICT xq) {
    WK_SHARED float tile[64][WK_MM_TILE + 1];
    const int lane = wk_lane(), c = lane & 3, warp = (int)threadIdx.y, chunk = (int)blockIdx.x;
    const int local = warp * 8 + (lane >> 2);
    for (int v0 = (int)blockIdx.y * WK_MM_TILE; v0 < nv; v0 += (int)gridDim.y * WK_MM_TILE) {
        float acc[WK_MM_TILE], sums[2];
        wk_mm_tile(type, w, chunk * 64 + local, k / 32, x, v0, nv, acc);
        wk_mm_reduce(acc, sums);
        tile[local][2 * c] = sums[0];
        tile[local][2 * c + 1] = sums[1];
        wk_sync();
        const int v = v0 + warp;
        if (v < nv) {  // the same for the whole warp, so its shuffles stay whole
            const float g = tile[lane][warp], u = tile[32 + lane][warp];
            const float h = g / (1.0f + expf(-g)) * u;
            out[(wk_i64)v * ff + chunk * 32 + lane] = h;
            wk_quantize_block(h, xq + (wk_i64)v * (ff / 32) + chunk);
        }
        wk_sync();
    }
}
