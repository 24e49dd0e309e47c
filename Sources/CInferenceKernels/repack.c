// Repacking GGUF Q4_1 / Q8_0 matrices into 16-row groups, so one 64-byte load feeds 16 rows at once
// (the int8 dot kernels accumulate one row per 32-bit lane) and each group's scales load as a vector.
#include <string.h>
#include "kernels.h"

static int groups_of(int rows) { return (rows + WK_GROUP_ROWS - 1) / WK_GROUP_ROWS; }

size_t wk_repacked_size_q4_1(int rows, int k) { return (size_t)groups_of(rows) * (k / 32) * WK_Q4_1_GROUP_BLOCK_BYTES; }
size_t wk_repacked_size_q8_0(int rows, int k) { return (size_t)groups_of(rows) * (k / 32) * WK_Q8_0_GROUP_BLOCK_BYTES; }

// GGUF block_q4_1: f16 d, f16 m, u8 qs[16] (20 bytes).
void wk_repack_q4_1(const void *src, int rows, int k, void *dst) {
    const int nb = k / 32;
    const uint8_t *s = src;
    uint8_t *out = dst;
    memset(out, 0, wk_repacked_size_q4_1(rows, k));
    for (int g = 0; g < groups_of(rows); g++)
        for (int b = 0; b < nb; b++) {
            uint8_t *o = out + ((size_t)g * nb + b) * WK_Q4_1_GROUP_BLOCK_BYTES;
            for (int r = 0; r < WK_GROUP_ROWS && g * WK_GROUP_ROWS + r < rows; r++) {
                const uint8_t *blk = s + ((size_t)(g * WK_GROUP_ROWS + r) * nb + b) * 20;
                memcpy(o + 2 * r, blk, 2);
                memcpy(o + 32 + 2 * r, blk + 2, 2);
                for (int c = 0; c < 4; c++) memcpy(o + 64 + 64 * c + 4 * r, blk + 4 + 4 * c, 4);
            }
        }
}

// GGUF block_q8_0: f16 d, i8 qs[32] (34 bytes); stored here as qs + 128 (unsigned, for u8 x s8 dot products).
void wk_repack_q8_0(const void *src, int rows, int k, void *dst) {
    const int nb = k / 32;
    const uint8_t *s = src;
    uint8_t *out = dst;
    memset(out, 0, wk_repacked_size_q8_0(rows, k));
    for (int g = 0; g < groups_of(rows); g++)
        for (int b = 0; b < nb; b++) {
            uint8_t *o = out + ((size_t)g * nb + b) * WK_Q8_0_GROUP_BLOCK_BYTES;
            for (int r = 0; r < WK_GROUP_ROWS; r++) {
                const int row = g * WK_GROUP_ROWS + r;
                const uint8_t *blk = row < rows ? s + ((size_t)row * nb + b) * 34 : NULL;
                if (blk) memcpy(o + 2 * r, blk, 2);
                for (int c = 0; c < 8; c++)
                    for (int i = 0; i < 4; i++) o[32 + 64 * c + 4 * r + i] = blk ? (uint8_t)(blk[2 + 4 * c + i] ^ 0x80) : 0x80;
            }
        }
}
