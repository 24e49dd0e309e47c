// Choosing each logits row's next token on the device (TokenChoice's semantics), so a decode step
// copies back one int per sequence instead of a vocabulary of floats.
//
// Launch: one block of (32, W) threads per row, W <= 32.
#include "common.cuh"

/// The better of two (value, index) candidates: the larger value, the lower index on ties; NaN never wins.
WK_DEVICE void wk_best(float *v, int *i, float ov, int oi) {
    if (ov > *v || (ov == *v && oi < *i)) {
        *v = ov;
        *i = oi;
    }
}

/// Index of the row's largest value (first on ties; 0 when every value is -inf or NaN), to every thread.
WK_DEVICE int wk_row_argmax(const float *row, int n, float *sv, int *si) {
    const int warp = (int)threadIdx.y, warps = (int)blockDim.y, lane = wk_lane();
    float v = WK_NEG_INF;
    int idx = WK_INT_MAX;
    for (int i = warp * 32 + lane; i < n; i += warps * 32) wk_best(&v, &idx, row[i], i);
    for (int m = 16; m > 0; m >>= 1) {
        const float ov = wk_shfl_xor(v, m);
        const int oi = wk_shfl_xor_i(idx, m);
        wk_best(&v, &idx, ov, oi);
    }
    if (lane == 0) {
        sv[warp] = v;
        si[warp] = idx;
    }
    wk_sync();
    v = WK_NEG_INF;
    idx = WK_INT_MAX;
    for (int w = 0; w < warps; w++) wk_best(&v, &idx, sv[w], si[w]);
    wk_sync();
    return idx == WK_INT_MAX ? 0 : idx;
}

/// out[r] = argmax of logits row r (n floats).
WK_KERNEL void wk_argmax(const float *WK_RESTRICT logits, int n, int *WK_RESTRICT out) {
    WK_SHARED float sv[32];
    WK_SHARED int si[32];
    const int best = wk_row_argmax(logits + (wk_i64)blockIdx.x * n, n, sv, si);
    if (threadIdx.x == 0 && threadIdx.y == 0) out[blockIdx.x] = best;
}

/// out[r] = the first token whose running probability under softmax(row / temperature[r]), summed in
/// id order, exceeds uniform[r]; the argmax where temperature[r] <= 0. Each thread owns a contiguous
/// run of ids: run sums, a prefix over the runs, then each thread looks for the crossing in its run
/// (the earliest found wins; none found, from rounding, gives the last id as on the host).
WK_KERNEL void wk_sample(const float *WK_RESTRICT logits, int n, const float *WK_RESTRICT temperature,
                         const float *WK_RESTRICT uniform, int *WK_RESTRICT out) {
    WK_SHARED float sv[32];
    WK_SHARED int si[32];
    WK_SHARED float runs[1024];
    const float *row = logits + (wk_i64)blockIdx.x * n;
    const int tid = (int)(threadIdx.y * 32 + threadIdx.x), threads = (int)(32 * blockDim.y);
    const float temp = temperature[blockIdx.x], u = uniform[blockIdx.x];
    const int top = wk_row_argmax(row, n, sv, si);
    if (!(temp > 0.0f)) {
        if (tid == 0) out[blockIdx.x] = top;
        return;
    }
    const float peak = row[top];
    const int per = (n + threads - 1) / threads, lo = tid * per, hi = lo + per < n ? lo + per : n;
    float sum = 0.0f;
    for (int i = lo; i < hi; i++) sum += expf((row[i] - peak) / temp);
    runs[tid] = sum;
    wk_sync();
    float before = 0.0f, total = 0.0f;
    for (int r = 0; r < threads; r++) {
        if (r < tid) before += runs[r];
        total += runs[r];
    }
    float running = before / total;
    int found = WK_INT_MAX;
    for (int i = lo; i < hi && found == WK_INT_MAX; i++) {
        running += expf((row[i] - peak) / temp) / total;
        if (running > u) found = i;
    }
    wk_sync();
    // Earliest crossing over the block (reusing the argmax scratch).
    for (int m = 16; m > 0; m >>= 1) {
        const int o = wk_shfl_xor_i(found, m);
        found = o < found ? o : found;
    }
    if (threadIdx.x == 0) si[threadIdx.y] = found;
    wk_sync();
    if (tid == 0) {
        int best = WK_INT_MAX;
        for (int w = 0; w < (int)blockDim.y; w++) best = si[w] < best ? si[w] : best;
        out[blockIdx.x] = best == WK_INT_MAX ? n - 1 : best;
    }
}
