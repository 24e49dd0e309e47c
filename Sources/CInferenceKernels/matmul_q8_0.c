// Q8_0 weights (repacked as q+128, see kernels.h) x int8 activation blocks:
//   dot(row, x) = sum over blocks of  d_w * d_x * (sum_j (q_w[j]+128) * q_x[j]  -  128 * sum_j q_x[j])
#include <immintrin.h>
#include "kernels.h"
#include "internal.h"

enum { GB = WK_Q8_0_GROUP_BLOCK_BYTES, R = WK_GROUP_ROWS };

static inline int32_t load_i32(const int8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

static void q8_0_scalar(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    for (int g = g0; g < g1; g++)
        for (int v = 0; v < nv; v++) {
            float acc[R] = {0};
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = w + ((size_t)g * nb + b) * GB;
                const wk_block_q8 *xb = x + (size_t)v * nb + b;
                for (int r = 0; r < R; r++) {
                    int32_t s = 0;
                    for (int c = 0; c < 8; c++)
                        for (int i = 0; i < 4; i++) s += ((int)blk[32 + 64 * c + 4 * r + i] - 128) * xb->qs[4 * c + i];
                    uint16_t d;
                    memcpy(&d, blk + 2 * r, 2);
                    acc[r] += (float)s * (wk_half_to_float(d) * xb->d);
                }
            }
            for (int r = 0; r < R && g * R + r < rows; r++) y[(size_t)v * ldy + g * R + r] = acc[r];
        }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))
static void q8_0_avx512(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
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
                __m512i q[8];
                for (int c = 0; c < 8; c++) q[c] = _mm512_loadu_si512(blk + 32 + 64 * c);
                for (int v = 0; v < vn; v++) {
                    const wk_block_q8 *xb = x + (size_t)(v0 + v) * nb + b;
                    __m512i sa = _mm512_set1_epi32(-128 * xb->qsum), sb = _mm512_setzero_si512();
                    for (int c = 0; c < 8; c += 2) {
                        sa = _mm512_dpbusd_epi32(sa, q[c], _mm512_set1_epi32(load_i32(xb->qs + 4 * c)));
                        sb = _mm512_dpbusd_epi32(sb, q[c + 1], _mm512_set1_epi32(load_i32(xb->qs + 4 * c + 4)));
                    }
                    const __m512 sum = _mm512_cvtepi32_ps(_mm512_add_epi32(sa, sb));
                    acc[v] = _mm512_fmadd_ps(sum, _mm512_mul_ps(dw, _mm512_set1_ps(xb->d)), acc[v]);
                }
            }
            for (int v = 0; v < vn; v++) _mm512_mask_storeu_ps(y + (size_t)(v0 + v) * ldy + g * R, mask, acc[v]);
        }
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q8_0_avx2(const uint8_t *w, int rows, int nb, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
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
                    __m256i sw[8], aw[8];  // signed weights and their magnitudes (maddubs wants u8 x s8)
                    for (int c = 0; c < 8; c++) {
                        sw[c] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 32 + 64 * c + 32 * h)), flip);
                        aw[c] = _mm256_sign_epi8(sw[c], sw[c]);
                    }
                    for (int v = 0; v < vn; v++) {
                        const wk_block_q8 *xb = x + (size_t)(v0 + v) * nb + b;
                        __m256i s = _mm256_setzero_si256();
                        for (int c = 0; c < 8; c++) {
                            const __m256i xs = _mm256_sign_epi8(_mm256_set1_epi32(load_i32(xb->qs + 4 * c)), sw[c]);
                            s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(aw[c], xs), ones));
                        }
                        acc[v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(xb->d)), acc[v]);
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

void wk_matmul_q8_0(const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
    wk_matmul_q8_0_at(wk_level(), w, rows, k, g0, g1, x, nv, y, ldy);
}

void wk_matmul_q8_0_at(int level, const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy) {
#if defined(__x86_64__)
    switch (level > wk_isa_detect() ? wk_isa_detect() : level) {
    case WK_ISA_AVX512VNNI: q8_0_avx512(w, rows, k / 32, g0, g1, x, nv, y, ldy); return;
    case WK_ISA_AVX2: q8_0_avx2(w, rows, k / 32, g0, g1, x, nv, y, ldy); return;
    default: break;
    }
#endif
    q8_0_scalar(w, rows, k / 32, g0, g1, x, nv, y, ldy);
}
