// Shared helpers of the kernel files (not part of the public header).
#ifndef WARDEN_KERNELS_INTERNAL_H
#define WARDEN_KERNELS_INTERNAL_H
#include <stdint.h>
#include <string.h>

extern int wk_isa_level;

static inline int wk_level(void) { return wk_isa_level >= 0 ? wk_isa_level : wk_isa_current(); }

/// IEEE half to single, exact (handles subnormals, inf, NaN).
static inline float wk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0x1F) bits = sign | 0x7F800000 | (man << 13);
    else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);
    else if (man == 0) bits = sign;
    else {  // subnormal: normalize
        int e = -1;
        do { man <<= 1; e++; } while ((man & 0x400) == 0);
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// Single to IEEE half, round to nearest even (overflow to inf, NaN kept).
static inline uint16_t wk_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, absx = x & 0x7FFFFFFF;
    if (absx >= 0x7F800000) return (uint16_t)(sign | 0x7C00 | (absx > 0x7F800000 ? 0x200 : 0));
    if (absx >= 0x477FF000) return (uint16_t)(sign | 0x7C00);  // rounds to >= 65520: inf
    if (absx < 0x38800000) {  // result is subnormal or zero
        if (absx < 0x33000000) return (uint16_t)sign;
        uint32_t man = (absx & 0x7FFFFF) | 0x800000;
        int shift = 126 - (int)(absx >> 23);  // 14..24
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t r = absx - 0x38000000;  // rebias exponent 127 -> 15
    uint32_t half = r >> 13, rem = r & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}
#endif
