// Run-time CPU feature dispatch: the kernels pick their variant from `wk_isa_level` on every call.
#include "kernels.h"
#include "internal.h"

int wk_isa_level = -1;

static int detected = -1;

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma"))
        return WK_ISA_AVX512VNNI;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma"))
        return WK_ISA_AVX2;
#endif
    return WK_ISA_SCALAR;
}

int wk_isa_detect(void) {
    if (detected < 0) detected = detect();
    return detected;
}

int wk_isa_current(void) {
    if (wk_isa_level < 0) wk_isa_level = wk_isa_detect();
    return wk_isa_level;
}

int wk_isa_set(int level) {
    int best = wk_isa_detect();
    wk_isa_level = level < 0 ? best : (level > best ? best : level);
    return wk_isa_level;
}
