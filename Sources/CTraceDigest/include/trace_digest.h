// CTraceDigest: the trace store's two hot loops, SHA-256 (record chain) and CRC-32C (record frames).
//
// Each has a portable C implementation and an x86-64 one (SHA-NI for SHA-256, SSE4.2 `crc32` for
// CRC-32C), chosen at run time from CPUID, so one binary runs everywhere and is fast where it can be.
// Tests check both paths against each other, against a Swift reference, and against the NIST
// (FIPS 180-2) and RFC 3720 vectors.
#ifndef TRACE_DIGEST_H
#define TRACE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/// Implementation choices for both digests.
enum {
    WD_DIGEST_PORTABLE = 0,  ///< plain C, any CPU
    WD_DIGEST_HARDWARE = 1,  ///< SHA-NI / SSE4.2, only if the CPU has them
};

/// Bit 0: the CPU has SSE4.2 crc32; bit 1: the CPU has the SHA extensions.
int wd_digest_hardware_features(void);

/// CRC-32C (Castagnoli, reflected, init/xorout 0xFFFFFFFF) of `len` bytes, continuing from `crc`
/// (pass 0 to start). `impl` is WD_DIGEST_PORTABLE, WD_DIGEST_HARDWARE, or -1 for the best available.
uint32_t wd_crc32c(uint32_t crc, const void *data, size_t len, int impl);

/// Streaming SHA-256 state.
typedef struct {
    uint32_t state[8];
    uint64_t length;       ///< bytes hashed so far
    uint8_t buffer[64];
    uint32_t buffered;
    int hardware;          ///< 1 when the SHA-NI block function is used
} wd_sha256_ctx;

/// Starts a hash; `impl` as for wd_crc32c (a hardware request falls back to portable if unsupported).
void wd_sha256_init(wd_sha256_ctx *ctx, int impl);
void wd_sha256_update(wd_sha256_ctx *ctx, const void *data, size_t len);
void wd_sha256_final(wd_sha256_ctx *ctx, uint8_t out[32]);
/// One-shot SHA-256 with the best available implementation.
void wd_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
