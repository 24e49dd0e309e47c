// The emulator's half of the kernel dialect (Sources/Inference/CUDA/Kernels/common.cuh includes it
// under #ifdef WK_EMULATOR; its CUDA half defines the same names for NVRTC). Kernels compiled with
// this header are plain host C++: each block's threads run as fibers on one OS thread, so everything
// below is ordinary C++ plus calls into the emulator's runtime (runtime.cpp).
//
// THE DIALECT (both halves define exactly these names, with these meanings):
//
//   WK_KERNEL                   `extern "C"` (CUDA: `extern "C" __global__`). Use: `WK_KERNEL void wk_x(...)`.
//                               Parameters are pointers, `int` and `float` only; the emulator's
//                               registry rejects any other parameter type at compile time.
//   WK_DEVICE                   inline helper: `static inline` (CUDA: `__device__ __forceinline__`).
//   WK_SHARED                   static shared array: `WK_SHARED float s[256];` inside a kernel or helper.
//                               Emulator: `static thread_local` (a block's fibers share one OS thread).
//                               Not zeroed; never rely on contents left by an earlier block.
//   WK_DYNAMIC_SHARED(T, name)  a statement declaring `name`, used as `name[i]`: the launch's dynamic shared
//                               memory (CUDA: `extern __shared__ T name[]`; emulator: a `T *`)
//                               of LaunchShape.sharedBytes bytes, 256-byte aligned. The emulator fills
//                               them with 0xFF before each block (floats read as NaN) so that reading
//                               shared memory nobody wrote shows up in results; at most 227 KiB
//                               (sm_90's opt-in maximum; CUDADevice raises the 48 KiB default).
//   WK_RESTRICT                 `__restrict__`.
//   threadIdx blockIdx          `.x .y .z` (unsigned), as in CUDA. Emulator: macros reading the current
//   blockDim gridDim            fiber's and block's state.
//   wk_sync()                   block barrier (__syncthreads). Every thread of the block must reach the
//                               same number of barriers; a thread that returned while others wait at a
//                               barrier is an error reported by the launch (never a hang).
//   wk_shfl_xor(float v, int m) value of `v` in lane (lane ^ m), m in [0, 31] (__shfl_xor_sync(~0u, v, m)).
//   wk_shfl_xor_i(int v, int m) the same for int.
//   wk_shfl(float v, int src)   value of `v` in lane (src mod 32): broadcast (__shfl_sync(~0u, v, src)).
//                               Shuffles are warp-synchronous: warps are 32 consecutive linear thread
//                               ids (x fastest, then y, then z); every lane of a warp must reach each
//                               shuffle (error otherwise), and reading a lane past the end of a
//                               partial last warp is an error.
//   wk_dp4a(int a, int b, int c) c + sum over the four bytes of a·b as signed int8 (__dp4a), wrapping.
//   wk_h2f(unsigned short h)    IEEE binary16 bits to float, exact (subnormals, ±inf, NaN stays NaN).
//   wk_f2h(float f)             float to binary16 bits, round to nearest even, with subnormals,
//                               overflow to ±inf, NaN to a quiet NaN (__float2half_rn).
//   rsqrtf(x)                   1/sqrt(x) (CUDA's is approximate to 2 ulp; the emulator's is exact-ish).
//   expf logf sqrtf fmaxf fminf fabsf cosf sinf powf roundf   as in <cmath> (CUDA device versions
//                               may differ by a few ulp; compare with a tolerance).
//   wk_i8 (signed char)  wk_u8 (unsigned char)  wk_f16 (unsigned short, half bits)
//   wk_u32 (unsigned int)  wk_i64 (long long)
//
// Nothing else: no other headers in kernel files, no atomics, no dynamic parallelism.
#ifndef WK_EMULATOR_CUH
#define WK_EMULATOR_CUH

#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "cuda_emulator.h"

#define WK_KERNEL extern "C"
#define WK_DEVICE static inline
#define WK_SHARED static thread_local
#define WK_RESTRICT __restrict__
#define WK_DYNAMIC_SHARED(T, name) T *name = reinterpret_cast<T *>(wk_emu_dynamic_shared())

typedef signed char wk_i8;
typedef unsigned char wk_u8;
typedef unsigned short wk_f16;
typedef unsigned int wk_u32;
typedef long long wk_i64;


/// CUDA's uint3, for the four index built-ins.
struct wk_emu_uint3 {
    unsigned x, y, z;
};

/// The running fiber (one per emulated thread); only `thread_idx` is read by kernels.
struct wk_emu_fiber_view {
    wk_emu_uint3 thread_idx;
};

/// The running block, per OS thread (a block never leaves the OS thread it started on).
struct wk_emu_block_view {
    wk_emu_uint3 block_idx;
    wk_emu_uint3 block_dim;
    wk_emu_uint3 grid_dim;
};

// __thread rather than thread_local: no TLS wrapper call on each access from another translation unit.
extern __thread wk_emu_fiber_view *wk_emu_current_fiber;
extern __thread wk_emu_block_view wk_emu_current_block;

#define threadIdx (wk_emu_current_fiber->thread_idx)
#define blockIdx (wk_emu_current_block.block_idx)
#define blockDim (wk_emu_current_block.block_dim)
#define gridDim (wk_emu_current_block.grid_dim)

extern "C" {
void wk_emu_sync(void);
unsigned wk_emu_shfl_bits(unsigned bits, int lane, int is_xor);
void *wk_emu_dynamic_shared(void);
}

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

inline void wk_sync() { wk_emu_sync(); }

inline float wk_shfl_xor(float v, int mask) {
    unsigned b;
    std::memcpy(&b, &v, 4);
    b = wk_emu_shfl_bits(b, mask, 1);
    std::memcpy(&v, &b, 4);
    return v;
}

inline int wk_shfl_xor_i(int v, int mask) { return (int)wk_emu_shfl_bits((unsigned)v, mask, 1); }

inline float wk_shfl(float v, int srcLane) {
    unsigned b;
    std::memcpy(&b, &v, 4);
    b = wk_emu_shfl_bits(b, srcLane, 0);
    std::memcpy(&v, &b, 4);
    return v;
}

inline int wk_dp4a(int a, int b, int c) {
    unsigned sum = (unsigned)c;
    for (int i = 0; i < 4; i++) {
        int x = (signed char)(a >> (8 * i));
        int y = (signed char)(b >> (8 * i));
        sum += (unsigned)(x * y);
    }
    return (int)sum;
}

inline float wk_h2f(unsigned short h) {
    unsigned sign = (unsigned)(h & 0x8000u) << 16;
    unsigned exponent = (h >> 10) & 0x1fu;
    unsigned mantissa = h & 0x3ffu;
    unsigned bits;
    if (exponent == 0) {
        // Zero or subnormal: mantissa · 2^-24 is exact in a float.
        float magnitude = (float)mantissa * 5.9604644775390625e-8f;
        std::memcpy(&bits, &magnitude, 4);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline unsigned short wk_f2h(float f) {
    unsigned x;
    std::memcpy(&x, &f, 4);
    unsigned sign = (x >> 16) & 0x8000u;
    unsigned magnitude = x & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return (unsigned short)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    if (magnitude >= 0x47800000u) return (unsigned short)(sign | 0x7c00u);  // ≥ 65536 (and inf): inf
    if (magnitude < 0x38800000u) {                                         // below 2^-14: subnormal half
        if (magnitude <= 0x33000000u) return (unsigned short)sign;          // ≤ 2^-25 rounds to zero (even)
        unsigned mantissa = (magnitude & 0x7fffffu) | 0x800000u;
        unsigned shift = 126u - (magnitude >> 23);
        unsigned h = mantissa >> shift;
        unsigned rest = mantissa & ((1u << shift) - 1u);
        unsigned half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (h & 1u))) h++;
        return (unsigned short)(sign | h);
    }
    unsigned h = ((((magnitude >> 23) - 112u) << 10) | ((magnitude & 0x7fffffu) >> 13));
    unsigned rest = magnitude & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;  // a carry into the exponent is right
    return (unsigned short)(sign | h);
}

// ---- The registry: `WK_EMU_REGISTRY_BEGIN`, one `WK_EMU_ENTRY(kernel)` per kernel, `WK_EMU_REGISTRY_END`.

/// A parameter type's letter in a kernel's signature: p (pointer), i (int), f (float).
template <typename T> constexpr char wk_emu_parameter_kind() {
    static_assert(std::is_pointer<T>::value || std::is_same<T, int>::value || std::is_same<T, float>::value,
                  "kernel parameters must be pointers, int or float (what KernelArgument carries)");
    return std::is_pointer<T>::value ? 'p' : (std::is_same<T, int>::value ? 'i' : 'f');
}

template <typename F> struct wk_emu_invoker;

/// Calls a kernel with `params[i]` read as its i-th parameter's own type.
template <typename... A> struct wk_emu_invoker<void (*)(A...)> {
    template <void (*F)(A...), std::size_t... I> static void call(void **params, std::index_sequence<I...>) {
        F(*static_cast<A *>(params[I])...);
    }
    template <void (*F)(A...)> static void invoke(void **params) {
        call<F>(params, std::index_sequence_for<A...>{});
    }
    static constexpr char signature[sizeof...(A) + 1] = {wk_emu_parameter_kind<A>()..., '\0'};
};

/// Adds a translation unit's kernels to the process-wide registry (runtime.cpp); entries live forever.
struct wk_emu_registrar {
    wk_emu_registrar(const wk_emu_registry_entry *entries, size_t count) { wk_emu_register(entries, count); }
};

#define WK_EMU_REGISTRY_BEGIN \
    namespace { \
    const wk_emu_registry_entry wk_emu_registry_entries[] = {
#define WK_EMU_ENTRY(fn) \
    {#fn, &wk_emu_invoker<decltype(&fn)>::template invoke<&fn>, wk_emu_invoker<decltype(&fn)>::signature},
#define WK_EMU_REGISTRY_END \
    }; \
    const wk_emu_registrar wk_emu_registry_registrar( \
        wk_emu_registry_entries, sizeof(wk_emu_registry_entries) / sizeof(wk_emu_registry_entries[0])); \
    }

#endif
