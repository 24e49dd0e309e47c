#ifndef WARDEN_KERNELS_H
#define WARDEN_KERNELS_H
// Int8 dot-product kernels for the CPU backend, with run-time CPU dispatch (the binary runs on any
// x86-64: AVX2 and AVX-512 VNNI variants are compiled per function with target attributes and picked
// with CPUID and XGETBV on first use, isa.c). Each kernel has a Swift reference in Sources/Inference/CPU that the
// tests compare it against.
#include <stddef.h>
#include <stdint.h>

/// An activation block: 32 values quantized to int8 with one scale (llama.cpp's Q8_1 idea, f32 scales).
/// x[j] ~= d * qs[j]; s = d * qsum (for Q4_1's min term); qsum = sum of qs (for the unsigned-weight offset).
typedef struct {
    float d;
    float s;
    int32_t qsum;
    int32_t pad;
    int8_t qs[32];
} wk_block_q8;

/// Instruction-set levels a kernel can run at.
enum { WK_ISA_SCALAR = 0, WK_ISA_AVX2 = 1, WK_ISA_AVX512VNNI = 2 };

/// The best level this CPU supports.
int wk_isa_detect(void);
/// The level in use (defaults to wk_isa_detect()).
int wk_isa_current(void);
/// Forces a level (clamped to what the CPU supports); returns the level now in use. For tests/benchmarks.
int wk_isa_set(int level);

/// Quantizes n floats (n a multiple of 32) into n/32 blocks: d = max|x|/127, qs = round(x/d).
void wk_quantize_q8(const float *x, int n, wk_block_q8 *out);
/// wk_quantize_q8 at a given instruction-set level (clamped), for tests.
void wk_quantize_q8_at(int level, const float *x, int n, wk_block_q8 *out);

/// Rows per group of the repacked weight layouts.
#define WK_GROUP_ROWS 16
/// Repacked Q4_1 bytes per (16-row group, 32-column block): f16 d[16], f16 m[16], then 4 chunks of
/// 16 rows x 4 bytes (chunk c holds each row's original qs[4c..4c+3]: low nibbles are elements
/// 4c..4c+3, high nibbles elements 16+4c..16+4c+3).
#define WK_Q4_1_GROUP_BLOCK_BYTES 320
/// Repacked Q8_0 bytes per (group, block): f16 d[16], then 8 chunks of 16 rows x 4 bytes of qs+128.
#define WK_Q8_0_GROUP_BLOCK_BYTES 544

/// Bytes of a repacked matrix of `rows` rows (padded to 16) and `k` columns.
size_t wk_repacked_size_q4_1(int rows, int k);
size_t wk_repacked_size_q8_0(int rows, int k);
/// Repacks GGUF Q4_1 / Q8_0 rows (`rows` x `k`, row-major blocks) into the grouped layout.
void wk_repack_q4_1(const void *src, int rows, int k, void *dst);
void wk_repack_q8_0(const void *src, int rows, int k, void *dst);

/// y[v*ldy + r] = dot(row r of W, x_v) for rows r of groups [g0, g1) below `rows`, vectors v < nv.
/// x holds nv vectors of k/32 blocks each, contiguous.
void wk_matmul_q4_1(const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy);
void wk_matmul_q8_0(const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy);

/// The same at a given instruction-set level (clamped to what the CPU supports), for tests.
void wk_matmul_q4_1_at(int level, const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy);
void wk_matmul_q8_0_at(int level, const void *w, int rows, int k, int g0, int g1, const wk_block_q8 *x, int nv, float *y, int ldy);

/// IEEE half <-> single conversions (round to nearest even).
void wk_f32_to_f16(const float *x, uint16_t *y, int n);
void wk_f16_to_f32(const uint16_t *x, float *y, int n);

/// Where one KV head's cached positions live in a paged arena: position j's key row is at
/// base + table[j / block] * block_stride + (j % block) * row_stride halfs, its value row
/// value_offset halfs further. `base` already points at the layer and head within block 0.
typedef struct {
    const uint16_t *base;
    const int32_t *table;
    size_t block_stride;
    size_t row_stride;
    size_t value_offset;
    int block;
} wk_kv_view;

/// The key row of position j (its value row is value_offset halfs further).
static inline const uint16_t *wk_kv_row(const wk_kv_view *kv, int j) {
    return kv->base + (size_t)kv->table[j / kv->block] * kv->block_stride + (size_t)(j % kv->block) * kv->row_stride;
}

/// One query head attending over n cached positions: scores = scale * q.k_j, softmax, out = sum p_j v_j.
/// `scores` is scratch of n floats. head_dim is any even number.
void wk_attention_f16(const float *q, const wk_kv_view *kv, int n, int head_dim, float scale, float *scores,
                      float *out);

/// Sum of n floats, read once in order (the benchmark's read-bandwidth loop).
float wk_sum_f32(const float *x, size_t n);

/// wk_attention_f16 at a given instruction-set level (clamped), for tests.
void wk_attention_f16_at(int level, const float *q, const wk_kv_view *kv, int n, int head_dim, float scale,
                         float *scores, float *out);

#endif
