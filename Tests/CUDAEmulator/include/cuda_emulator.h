// The CUDA emulator's C API (for Swift's EmulatedDevice and for the kernel registry macros).
//
// Kernels (Sources/Inference/CUDA/Kernels/*.cu and the self-test kernels) are compiled for the host
// with WK_EMULATOR defined; each block's threads run as fibers on one OS thread, blocks are spread over
// a few OS threads. Nothing here touches a GPU.
#ifndef CUDA_EMULATOR_H
#define CUDA_EMULATOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One registered kernel: its name, a function calling it with `void **` parameters, and its signature
/// (one letter a parameter: p pointer, i int, f float).
typedef struct wk_emu_registry_entry {
    const char *name;
    void (*invoke)(void **params);
    const char *signature;
} wk_emu_registry_entry;

/// Adds `count` entries (kept, not copied) to the registry; called by WK_EMU_REGISTRY_END at load time.
void wk_emu_register(const wk_emu_registry_entry *entries, size_t count);

/// The kernel registered under `name`, or NULL.
const void *wk_emu_kernel(const char *name);
/// Kernels registered.
size_t wk_emu_kernel_count(void);
/// The `index`-th registered kernel (in registration order), or NULL past the end.
const void *wk_emu_kernel_at(size_t index);
/// A kernel's name.
const char *wk_emu_kernel_name(const void *kernel);
/// A kernel's parameter kinds: one letter a parameter, p (pointer), i (int), f (float).
const char *wk_emu_kernel_signature(const void *kernel);

/// Runs `kernel` over a grid of gx·gy·gz blocks of bx·by·bz threads with `shared_bytes` of dynamic
/// shared memory; `params[i]` points at the i-th parameter's value. Returns 0 when every thread
/// finished, or -1 with a message naming the kernel, block and thread in `error` (a divergent barrier
/// or shuffle, a bad shape, a fault in a kernel's memory access).
int wk_emu_launch(const void *kernel, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  unsigned shared_bytes, void **params, char *error, size_t error_capacity);

/// OS threads a launch spreads its blocks over (default: the machine's cores, at most 8; at least 1).
unsigned wk_emu_threads(void);
/// Sets that number (1 runs every block on the calling thread).
void wk_emu_set_threads(unsigned count);

/// Fiber switches made by this process so far (for the speed report).
unsigned long long wk_emu_switch_count(void);

#ifdef __cplusplus
}
#endif

#endif
