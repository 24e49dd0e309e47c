// Activation quantization to int8 blocks and half-precision conversions.
#include <math.h>
#include "kernels.h"
#include "internal.h"

void wk_quantize_q8(const float *x, int n, wk_block_q8 *out) {
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int)roundf(xb[j] * id);  // half away from zero, as llama.cpp
            out[b].qs[j] = (int8_t)q;
            sum += q;
        }
        // Scales are rounded through half precision as llama.cpp stores them (block_q8_1: f16 d, f16 s),
        // which keeps our logits closest to the reference implementation.
        out[b].d = wk_half_to_float(wk_float_to_half(d));
        out[b].qsum = sum;
        out[b].s = wk_half_to_float(wk_float_to_half(d * (float)sum));
        out[b].pad = 0;
    }
}

void wk_f32_to_f16(const float *x, uint16_t *y, int n) {
    for (int i = 0; i < n; i++) y[i] = wk_float_to_half(x[i]);
}

void wk_f16_to_f32(const uint16_t *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = wk_half_to_float(x[i]);
}
