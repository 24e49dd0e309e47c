// Activation quantization to int8 blocks and half-precision conversions.
#include <immintrin.h>
#include <math.h>
#include "kernels.h"
#include "internal.h"

static void quantize_scalar(const float *x, int n, wk_block_q8 *out) {
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

#if defined(__x86_64__)
// Same results as quantize_scalar, bit for bit: roundf's half-away-from-zero is rebuilt from truncation.
__attribute__((target("avx512f,avx512bw,avx512vl")))
static void quantize_avx512(const float *x, int n, wk_block_q8 *out) {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i signbit = _mm512_set1_epi32((int)0x80000000u), one = _mm512_castps_si512(_mm512_set1_ps(1.0f));
    for (int b = 0; b < n / 32; b++) {
        const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        const float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
        __m512i q[2];
        for (int h = 0; h < 2; h++) {
            const __m512 v = _mm512_mul_ps(h ? x1 : x0, _mm512_set1_ps(id));
            __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
            const __m512 away = _mm512_castsi512_ps(_mm512_or_si512(one, _mm512_and_si512(_mm512_castps_si512(v), signbit)));
            t = _mm512_mask_add_ps(t, up, t, away);  // ±1 away from zero when the fraction is at least one half
            q[h] = _mm512_cvtps_epi32(t);
            _mm_storeu_si128((__m128i *)(out[b].qs + 16 * h), _mm512_cvtepi32_epi8(q[h]));
        }
        const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q[0], q[1]));
        out[b].d = wk_half_to_float(wk_float_to_half(d));
        out[b].qsum = sum;
        out[b].s = wk_half_to_float(wk_float_to_half(d * (float)sum));
        out[b].pad = 0;
    }
}
#endif

void wk_quantize_q8(const float *x, int n, wk_block_q8 *out) {
    wk_quantize_q8_at(wk_level(), x, n, out);
}

void wk_quantize_q8_at(int level, const float *x, int n, wk_block_q8 *out) {
#if defined(__x86_64__)
    if (level >= WK_ISA_AVX512VNNI && wk_isa_detect() >= WK_ISA_AVX512VNNI) {
        quantize_avx512(x, n, out);
        return;
    }
#endif
    quantize_scalar(x, n, out);
}

void wk_f32_to_f16(const float *x, uint16_t *y, int n) {
    for (int i = 0; i < n; i++) y[i] = wk_float_to_half(x[i]);
}

void wk_f16_to_f32(const uint16_t *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = wk_half_to_float(x[i]);
}
