// Run-time CPU feature detection for the digest dispatch (CPUID, cached after the first call).
#include "trace_digest.h"

#if defined(__x86_64__)
#include <cpuid.h>

static int detect(void) {
    unsigned a, b, c, d;
    int features = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2)) features |= 1;
    // SHA-NI is CPUID.(EAX=7,ECX=0):EBX bit 29; the SHA-NI code also uses SSSE3 and SSE4.1 (ECX bits 9, 19).
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29))) {
        unsigned a1, b1, c1, d1;
        if (__get_cpuid(1, &a1, &b1, &c1, &d1) && (c1 & bit_SSSE3) && (c1 & bit_SSE4_1)) features |= 2;
    }
    return features;
}
#else
static int detect(void) { return 0; }
#endif

int wd_digest_hardware_features(void) {
    // Racing first callers compute the same value, so a relaxed cache is enough.
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}
