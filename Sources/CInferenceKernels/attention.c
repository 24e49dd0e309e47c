// Attention of one query head over a paged half-precision KV cache: scores, softmax, weighted sum of values.
// Positions are found through the sequence's block table (wk_kv_row), so blocks need not be adjacent.
#include <immintrin.h>
#include <math.h>
#include "kernels.h"
#include "internal.h"

static void softmax(float *s, int n) {
    float max = -INFINITY, sum = 0.0f;
    for (int j = 0; j < n; j++) max = s[j] > max ? s[j] : max;
    for (int j = 0; j < n; j++) { s[j] = expf(s[j] - max); sum += s[j]; }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) s[j] *= inv;
}

static void attention_scalar(const float *q, const wk_kv_view *kv, int n, int hd,
                             float scale, float *scores, float *out) {
    for (int j = 0; j < n; j++) {
        float dot = 0.0f;
        for (int d = 0; d < hd; d++) dot += q[d] * wk_half_to_float(wk_kv_row(kv, j)[d]);
        scores[j] = dot * scale;
    }
    softmax(scores, n);
    for (int d = 0; d < hd; d++) out[d] = 0.0f;
    for (int j = 0; j < n; j++)
        for (int d = 0; d < hd; d++) out[d] += scores[j] * wk_half_to_float(wk_kv_row(kv, j)[kv->value_offset + d]);
}

#if defined(__x86_64__)
// head_dim a multiple of 16, at most 256.
__attribute__((target("avx512f,avx512vl,fma,f16c")))
static void attention_avx512(const float *q, const wk_kv_view *kv, int n, int hd,
                             float scale, float *scores, float *out) {
    const int nc = hd / 16;
    __m512 qv[16];
    for (int c = 0; c < nc; c++) qv[c] = _mm512_loadu_ps(q + 16 * c);
    for (int j = 0; j < n; j++) {
        const uint16_t *kj = wk_kv_row(kv, j);
        __m512 acc = _mm512_setzero_ps();
        for (int c = 0; c < nc; c++)
            acc = _mm512_fmadd_ps(qv[c], _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(kj + 16 * c))), acc);
        scores[j] = _mm512_reduce_add_ps(acc) * scale;
    }
    softmax(scores, n);
    __m512 o[16];
    for (int c = 0; c < nc; c++) o[c] = _mm512_setzero_ps();
    for (int j = 0; j < n; j++) {
        const uint16_t *vj = wk_kv_row(kv, j) + kv->value_offset;
        const __m512 p = _mm512_set1_ps(scores[j]);
        for (int c = 0; c < nc; c++)
            o[c] = _mm512_fmadd_ps(p, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(vj + 16 * c))), o[c]);
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(out + 16 * c, o[c]);
}

// head_dim a multiple of 8, at most 256.
__attribute__((target("avx2,fma,f16c")))
static void attention_avx2(const float *q, const wk_kv_view *kv, int n, int hd,
                           float scale, float *scores, float *out) {
    const int nc = hd / 8;
    for (int j = 0; j < n; j++) {
        const uint16_t *kj = wk_kv_row(kv, j);
        __m256 acc = _mm256_setzero_ps();
        for (int c = 0; c < nc; c++)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * c), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + 8 * c))), acc);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        scores[j] = _mm_cvtss_f32(s) * scale;
    }
    softmax(scores, n);
    for (int c = 0; c < nc; c++) {
        __m256 o = _mm256_setzero_ps();
        for (int j = 0; j < n; j++)
            o = _mm256_fmadd_ps(_mm256_set1_ps(scores[j]), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wk_kv_row(kv, j) + kv->value_offset + 8 * c))), o);
        _mm256_storeu_ps(out + 8 * c, o);
    }
}
#endif

void wk_attention_f16(const float *q, const wk_kv_view *kv, int n, int head_dim, float scale, float *scores,
                      float *out) {
    wk_attention_f16_at(wk_level(), q, kv, n, head_dim, scale, scores, out);
}

void wk_attention_f16_at(int level, const float *q, const wk_kv_view *kv, int n, int head_dim, float scale,
                         float *scores, float *out) {
#if defined(__x86_64__)
    if (level > wk_isa_detect()) level = wk_isa_detect();
    if (level == WK_ISA_AVX512VNNI && head_dim % 16 == 0 && head_dim <= 256) {
        attention_avx512(q, kv, n, head_dim, scale, scores, out);
        return;
    }
    if (level >= WK_ISA_AVX2 && head_dim % 8 == 0) {
        attention_avx2(q, kv, n, head_dim, scale, scores, out);
        return;
    }
#endif
    attention_scalar(q, kv, n, head_dim, scale, scores, out);
}
