// Shared definitions of the kernel files: the wk_ portability layer and the helpers every kernel uses.
//
// Under WK_EMULATOR (Tests/CUDAEmulator) the layer comes from the emulator's header; otherwise it is
// defined here for NVRTC, which compiles this source with no headers at all (so half conversion and
// dp4a are inline PTX, and the math functions are NVRTC's built-in ones).
#ifndef WK_COMMON_CUH
#define WK_COMMON_CUH

#ifdef WK_EMULATOR
#include "wk_emulator.cuh"
#else
#define WK_KERNEL extern "C" __global__
#define WK_DEVICE static __device__ __forceinline__
#define WK_SHARED __shared__
#define WK_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#define WK_RESTRICT __restrict__
typedef signed char wk_i8;
typedef unsigned char wk_u8;
typedef unsigned short wk_f16;
typedef unsigned int wk_u32;
typedef long long wk_i64;

WK_DEVICE void wk_sync() { __syncthreads(); }
WK_DEVICE float wk_shfl_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
WK_DEVICE int wk_shfl_xor_i(int v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
WK_DEVICE float wk_shfl(float v, int lane) { return __shfl_sync(0xffffffffu, v, lane); }
WK_DEVICE int wk_dp4a(int a, int b, int c) {
    int r;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}
WK_DEVICE float wk_h2f(wk_f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
WK_DEVICE wk_f16 wk_f2h(float f) {
    wk_f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
#endif

/// Threads of a warp, and the lanes that cooperate on one matrix row in the matmul kernels.
#define WK_WARP 32
#define WK_NEG_INF wk_neg_inf()
#define WK_INT_MAX 2147483647

/// An activation block, the same 48 bytes as the CPU's wk_block_q8 (CInferenceKernels/kernels.h):
/// x[j] ~= d * qs[j], s = d * qsum (both rounded through half precision), qs 16-byte aligned.
struct alignas(16) wk_block_q8 {
    float d;
    float s;
    int qsum;
    int pad;
    wk_i8 qs[32];
};

/// Sixteen bytes loaded at once (the address must be 16-byte aligned).
struct alignas(16) wk_v4 {
    wk_u32 x, y, z, w;
};

/// -infinity (no header to take INFINITY from under NVRTC).
WK_DEVICE float wk_neg_inf() {
    union { wk_u32 u; float f; } bits = {0xFF800000u};
    return bits.f;
}

WK_DEVICE int wk_lane() { return (int)threadIdx.x; }

WK_DEVICE float wk_warp_sum(float v) {
    for (int m = 16; m > 0; m >>= 1) v += wk_shfl_xor(v, m);
    return v;
}

WK_DEVICE int wk_warp_sum_i(int v) {
    for (int m = 16; m > 0; m >>= 1) v += wk_shfl_xor_i(v, m);
    return v;
}

WK_DEVICE float wk_warp_max(float v) {
    for (int m = 16; m > 0; m >>= 1) {
        float o = wk_shfl_xor(v, m);
        v = o > v ? o : v;
    }
    return v;
}

/// Half-precision rounding of a float, as the CPU stores activation scales.
WK_DEVICE float wk_round_half(float f) { return wk_h2f(wk_f2h(f)); }

/// Quantizes one 32-value block held one value per lane (every lane of the warp calls it) exactly as
/// the CPU's wk_quantize_q8: d = max|x| / 127, q = round(x / d) half away from zero, f16-rounded scales.
WK_DEVICE void wk_quantize_block(float x, wk_block_q8 *out) {
    const int lane = wk_lane();
    const float amax = wk_warp_max(fabsf(x));
    const float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
    const int q = (int)roundf(x * id);
    const int sum = wk_warp_sum_i(q);
    out->qs[lane] = (wk_i8)q;
    if (lane == 0) {
        out->d = wk_round_half(d);
        out->s = wk_round_half(d * (float)sum);
        out->qsum = sum;
        out->pad = 0;
    }
}

/// The 16-bit word at a 2-byte aligned address (Q8_0 blocks are 34 bytes, so only 2-byte aligned).
WK_DEVICE wk_u32 wk_load_u16(const wk_u8 *p) { return (wk_u32)(*(const wk_f16 *)p); }

/// Where position j of a sequence lives in the paged KV arena: the key row's first half (its value row
/// is value_offset halves further). Offsets are in halves; `layer` already includes the head's column.
WK_DEVICE wk_i64 wk_kv_row(const int *table, int j, int block_size, int block_stride, int layer, int kv_dim) {
    return (wk_i64)table[j / block_size] * block_stride + layer + (wk_i64)(j % block_size) * kv_dim;
}

#endif
