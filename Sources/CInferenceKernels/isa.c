// Run-time CPU feature dispatch: the kernels pick their variant from `wk_isa_level` on every call.
#include "kernels.h"
#include "internal.h"

int wk_isa_level = -1;

static int detected = -1;

#if defined(__x86_64__)
// CPUID and XGETBV directly, on first use, instead of __builtin_cpu_supports: that builtin links
// libgcc's __cpu_indicator_init, a constructor that runs a dozen CPUIDs in every process at start
// (each a VM exit here, ~0.1 ms per `warden exec` that never runs a kernel).
static void cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(leaf), "c"(subleaf));
}

/// Whether the OS saves the register state in `mask` (XCR0): the CPU having AVX is not enough.
static int os_saves(unsigned long long mask) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((((unsigned long long)hi << 32) | lo) & mask) == mask;
}
#endif

static int detect(void) {
#if defined(__x86_64__)
    unsigned r[4];
    cpuid(0, 0, r);
    unsigned max_leaf = r[0];
    if (max_leaf < 7) return WK_ISA_SCALAR;
    cpuid(1, 0, r);
    int fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1, f16c = (r[2] >> 29) & 1;
    if (!osxsave || !avx || !os_saves(0x6)) return WK_ISA_SCALAR;           // XMM and YMM state
    cpuid(7, 0, r);
    int avx2 = (r[1] >> 5) & 1, avx512f = (r[1] >> 16) & 1, avx512bw = (r[1] >> 30) & 1, avx512vl = (r[1] >> 31) & 1;
    int avx512vnni = (r[2] >> 11) & 1;
    if (avx512f && avx512bw && avx512vl && avx512vnni && f16c && fma && os_saves(0xE6))  // + opmask, ZMM
        return WK_ISA_AVX512VNNI;
    if (avx2 && f16c && fma) return WK_ISA_AVX2;
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
