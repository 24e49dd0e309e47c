// Q4_1 weights (repacked, see kernels.h) x int8 activation blocks:
//   dot(row, x) = sum over blocks of  d_w * d_x * sum_j q_w[j] * q_x[j]  +  m_w * s_x
// with q_w in 0..15 (unsigned) and q_x in -127..127, so u8 x s8 dot instructions apply directly.
#include <immintrin.h>
#include "kernels.h"
#include "internal.h"

enum { GB = WK_Q4_1_GROUP_BLOCK_BYTES, R = WK_GROUP_ROWS };

static inline int32_t load_i32(const int8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

static void q4_1_scalar(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    for (int g = g0; g < g1; g++)
        for (int v = 0; v < nv; v++) {
            float acc[R] = {0};
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = w + ((size_t)g * nb + b) * GB;
                const wk_block_q8 *xb = x + (size_t)v * nb + b;
                for (int r = 0; r < R; r++) {
                    int32_t s = 0;
                    for (int c = 0; c < 4; c++)
                        for (int i = 0; i < 4; i++) {
                            const uint8_t q = blk[64 + 64 * c + 4 * r + i];
                            s += (q & 15) * xb->qs[4 * c + i] + (q >> 4) * xb->qs[16 + 4 * c + i];
                        }
                    uint16_t d, m;
                    memcpy(&d, blk + 2 * r, 2);
                    memcpy(&m, blk + 32 + 2 * r, 2);
                    acc[r] += (float)s * (wk_half_to_float(d) * xb->d) + wk_half_to_float(m) * xb->s;
                }
            }
            for (int r = 0; r < R && g * R + r < rows; r++) y[(size_t)v * ldy + g * R + r] = acc[r];
        }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))
static void q4_1_avx512(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int g = g0; g < g1; g++) {
        const uint8_t *wg = w + (size_t)g * nb * GB;
        const int left = rows - g * R;
        const __mmask16 mask = left >= R ? 0xFFFF : (__mmask16)((1u << left) - 1);
        for (int v0 = 0; v0 < nv; v0 += 4) {
            const int vn = nv - v0 < 4 ? nv - v0 : 4;
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = wg + (size_t)b * GB;
                const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
                const __m512 mw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + 32)));
                __m512i lo[4], hi[4];
                for (int c = 0; c < 4; c++) {
                    const __m512i raw = _mm512_loadu_si512(blk + 64 + 64 * c);
                    lo[c] = _mm512_and_si512(raw, m4);
                    hi[c] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
                }
                for (int v = 0; v < vn; v++) {
                    const wk_block_q8 *xb = x + (size_t)(v0 + v) * nb + b;
                    __m512i sa = _mm512_setzero_si512(), sb = _mm512_setzero_si512();
                    for (int c = 0; c < 4; c++) {
                        sa = _mm512_dpbusd_epi32(sa, lo[c], _mm512_set1_epi32(load_i32(xb->qs + 4 * c)));
                        sb = _mm512_dpbusd_epi32(sb, hi[c], _mm512_set1_epi32(load_i32(xb->qs + 16 + 4 * c)));
                    }
                    const __m512 sum = _mm512_cvtepi32_ps(_mm512_add_epi32(sa, sb));
                    acc[v] = _mm512_fmadd_ps(sum, _mm512_mul_ps(dw, _mm512_set1_ps(xb->d)), acc[v]);
                    acc[v] = _mm512_fmadd_ps(mw, _mm512_set1_ps(xb->s), acc[v]);
                }
            }
            for (int v = 0; v < vn; v++) _mm512_mask_storeu_ps(y + (size_t)(v0 + v) * ldy + g * R, mask, acc[v]);
        }
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q4_1_avx2(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (int g = g0; g < g1; g++)
        for (int h = 0; h < 2; h++) {
            const uint8_t *wg = w + (size_t)g * nb * GB;
            const int base = g * R + 8 * h, left = rows - base;
            if (left <= 0) break;
            for (int v0 = 0; v0 < nv; v0 += 4) {
                const int vn = nv - v0 < 4 ? nv - v0 : 4;
                __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
                for (int b = 0; b < nb; b++) {
                    const uint8_t *blk = wg + (size_t)b * GB;
                    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
                    const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 32 + 16 * h)));
                    __m256i lo[4], hi[4];
                    for (int c = 0; c < 4; c++) {
                        const __m256i raw = _mm256_loadu_si256((const __m256i *)(blk + 64 + 64 * c + 32 * h));
                        lo[c] = _mm256_and_si256(raw, m4);
                        hi[c] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
                    }
                    for (int v = 0; v < vn; v++) {
                        const wk_block_q8 *xb = x + (size_t)(v0 + v) * nb + b;
                        // Pair sums are at most 2*15*127, so eight of them still fit in int16.
                        __m256i p = _mm256_setzero_si256();
                        for (int c = 0; c < 4; c++) {
                            p = _mm256_add_epi16(p, _mm256_maddubs_epi16(lo[c], _mm256_set1_epi32(load_i32(xb->qs + 4 * c))));
                            p = _mm256_add_epi16(p, _mm256_maddubs_epi16(hi[c], _mm256_set1_epi32(load_i32(xb->qs + 16 + 4 * c))));
                        }
                        const __m256 sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
                        acc[v] = _mm256_fmadd_ps(sum, _mm256_mul_ps(dw, _mm256_set1_ps(xb->d)), acc[v]);
                        acc[v] = _mm256_fmadd_ps(mw, _mm256_set1_ps(xb->s), acc[v]);
                    }
                }
                for (int v = 0; v < vn; v++) {
                    float tmp[8];
                    _mm256_storeu_ps(tmp, acc[v]);
                    for (int r = 0; r < 8 && r < left; r++) y[(size_t)(v0 + v) * ldy + base + r] = tmp[r];
                }
            }
        }
}
#endif

void wk_matmul_q4_1(const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    wk_matmul_q4_1_at(wk_level(), w, rows, k, g0, g1, x, nv, y, ldy);
}

void wk_matmul_q4_1_at(int level, const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
#if defined(__x86_64__)
    switch (level > wk_isa_detect() ? wk_isa_detect() : level) {
    case WK_ISA_AVX512VNNI: q4_1_avx512(w, rows, k / 32, g0, g1, x, nv, y, ldy); return;
    case WK_ISA_AVX2: q4_1_avx2(w, rows, k / 32, g0, g1, x, nv, y, ldy); return;
    default: break;
    }
#endif
    q4_1_scalar(w, rows, k / 32, g0, g1, x, nv, y, ldy);
}
