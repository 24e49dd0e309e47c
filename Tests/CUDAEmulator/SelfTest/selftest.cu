// Kernels that test the emulator itself (Tests/InferenceTests/CUDAEmulatorTests.swift), written in the
// same dialect as Sources/Inference/CUDA/Kernels. Emulator-only: they are not part of the PTX.
#include "wk_emulator.cuh"

/// out[blockIdx.x] = sum of x[blockIdx.x·n … +n) (tree reduction in static shared memory; blockDim.x a
/// power of two ≤ 1024).
WK_KERNEL void wk_selftest_block_sum(const float *WK_RESTRICT x, float *WK_RESTRICT out, int n) {
    WK_SHARED float partial[1024];
    unsigned t = threadIdx.x;
    const float *row = x + (wk_i64)blockIdx.x * n;
    float sum = 0;
    for (int i = (int)t; i < n; i += (int)blockDim.x) sum += row[i];
    partial[t] = sum;
    wk_sync();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) partial[t] += partial[t + half];
        wk_sync();
    }
    if (t == 0) out[blockIdx.x] = partial[0];
}

/// Per thread: the warp's float sum by xor shuffles, the warp's int sum, and lane `source`'s value.
WK_KERNEL void wk_selftest_warp(const float *x, const int *k, float *sums, int *isums, float *broadcasts, int source) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = x[i];
    int w = k[i];
    for (int mask = 16; mask > 0; mask /= 2) {
        v += wk_shfl_xor(v, mask);
        w += wk_shfl_xor_i(w, mask);
    }
    sums[i] = v;
    isums[i] = w;
    broadcasts[i] = wk_shfl(x[i], source);
}

/// out[i] = wk_dp4a(a[i], b[i], c[i]).
WK_KERNEL void wk_selftest_dp4a(const int *a, const int *b, const int *c, int *out, int n) {
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) out[i] = wk_dp4a(a[i], b[i], c[i]);
}

/// floats[i] = wk_h2f(halves[i]) and rounded[i] = wk_f2h(values[i]).
WK_KERNEL void wk_selftest_half(const wk_f16 *halves, float *floats, const float *values, wk_f16 *rounded, int n) {
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= n) return;
    floats[i] = wk_h2f(halves[i]);
    rounded[i] = wk_f2h(values[i]);
}

/// Each thread writes its threadIdx, blockIdx, blockDim and gridDim (12 ints) at its global linear id.
WK_KERNEL void wk_selftest_index(int *out) {
    unsigned threadInBlock = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int *o = out + ((wk_i64)block * blockDim.x * blockDim.y * blockDim.z + threadInBlock) * 12;
    unsigned before[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                           blockDim.x,  blockDim.y,  blockDim.z,  gridDim.x,  gridDim.y,  gridDim.z};
    wk_sync();  // other fibers ran in between: the built-ins must still read this thread's values
    unsigned after[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                          blockDim.x,  blockDim.y,  blockDim.z,  gridDim.x,  gridDim.y,  gridDim.z};
    for (int j = 0; j < 12; j++) o[j] = before[j] == after[j] ? (int)before[j] : -1;
}

/// Thread `skip` of each block returns early; the others wait at a barrier it never reaches.
WK_KERNEL void wk_selftest_divergent_sync(int skip) {
    if ((int)threadIdx.x == skip) return;
    wk_sync();
}

/// Even threads pass one barrier, odd threads two.
WK_KERNEL void wk_selftest_uneven_sync() {
    for (unsigned i = 0; i <= threadIdx.x % 2; i++) wk_sync();
}

/// Lane `skip` returns before the warp's shuffle.
WK_KERNEL void wk_selftest_divergent_shuffle(float *out, int skip) {
    if ((int)(threadIdx.x % 32) == skip) return;
    out[threadIdx.x] = wk_shfl_xor(1.0f, 1);
}

/// out[i] = in[i] reversed within each block, through dynamic shared memory (blockDim.x floats).
WK_KERNEL void wk_selftest_dynamic_shared(const float *in, float *out) {
    WK_DYNAMIC_SHARED(float, buffer);
    unsigned base = blockIdx.x * blockDim.x;
    buffer[threadIdx.x] = in[base + threadIdx.x];
    wk_sync();
    out[base + threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}

/// out[index] = value: with an index past a buffer's end this writes into its guard page.
WK_KERNEL void wk_selftest_store(float *out, int index, float value) {
    if (threadIdx.x == 0) out[index] = value;
}

/// A 128 KiB local array: more than a fiber's 64 KiB stack, so it must fault on the guard page (the
/// target compiles with stack-clash protection, which probes every page of a large frame).
WK_KERNEL void wk_selftest_deep_stack(float *out, int index) {
    float big[32768];
    for (int i = 0; i < 32768; i++) big[i] = (float)i * out[0];
    out[1] = big[index & 32767];
}

/// `rounds` xor shuffles per thread (the speed check); out[i] = the result.
WK_KERNEL void wk_selftest_shuffle_rounds(float *out, int rounds) {
    float v = (float)(threadIdx.x % 32);
    for (int r = 0; r < rounds; r++) v = wk_shfl_xor(v, 1 + r % 31) * 0.5f + 1.0f;
    out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

WK_EMU_REGISTRY_BEGIN
WK_EMU_ENTRY(wk_selftest_block_sum)
WK_EMU_ENTRY(wk_selftest_warp)
WK_EMU_ENTRY(wk_selftest_dp4a)
WK_EMU_ENTRY(wk_selftest_half)
WK_EMU_ENTRY(wk_selftest_index)
WK_EMU_ENTRY(wk_selftest_divergent_sync)
WK_EMU_ENTRY(wk_selftest_uneven_sync)
WK_EMU_ENTRY(wk_selftest_divergent_shuffle)
WK_EMU_ENTRY(wk_selftest_dynamic_shared)
WK_EMU_ENTRY(wk_selftest_store)
WK_EMU_ENTRY(wk_selftest_shuffle_rounds)
WK_EMU_ENTRY(wk_selftest_deep_stack)
WK_EMU_REGISTRY_END
