// The emulator's internals: one Worker per OS thread that runs blocks, one Fiber per emulated thread.
#ifndef WK_EMU_RUNTIME_H
#define WK_EMU_RUNTIME_H

#include <stddef.h>

#include "fiber.h"
#include "wk_emulator.cuh"

namespace wk_emu {

/// Where an emulated thread stands.
enum class State : unsigned char { running, atSync, atShuffle, done };

/// One emulated thread. `view` comes first: kernels reach it through `wk_emu_current_fiber`.
struct Fiber {
    wk_emu_fiber_view view;
    State state;
    Context context;
};

/// What a launch asks of the blocks it runs.
struct LaunchSpec {
    const wk_emu_registry_entry *kernel;
    void **params;
    wk_emu_uint3 grid;
    wk_emu_uint3 block;
    unsigned sharedBytes;
};

/// Each OS thread's fibers, their stacks, the shuffle exchange and the dynamic shared memory, reused
/// from launch to launch.
struct Worker {
    Fiber *fibers = nullptr;
    unsigned capacity = 0;   // fibers with a stack
    unsigned count = 0;      // threads in the current block
    char *stacks = nullptr;  // capacity × (guard page + stack)
    size_t stacksLength = 0;
    unsigned *shuffleSlots = nullptr;  // [warp][generation parity][lane]
    unsigned *shuffleGeneration = nullptr;  // [warp]
    unsigned char *dynamicShared = nullptr;
    const LaunchSpec *launch = nullptr;
    Context main;
    bool inBlock = false;
    bool failed = false;
    char error[512];
    unsigned long long switches = 0;
    void *alternateStack = nullptr;

    ~Worker();
};

constexpr size_t stackSize = 64 * 1024;
constexpr size_t guardSize = 4096;
constexpr unsigned maxThreadsPerBlock = 1024;
constexpr unsigned maxDynamicShared = 227 * 1024;  // sm_90 opt-in maximum per block (CUDADevice raises the 48 KiB default)

/// The calling OS thread's worker (made on first use, freed when the thread exits).
Worker *current_worker();
/// The calling OS thread's worker if it has one (async-signal-safe).
Worker *current_worker_if_any();
/// Sizes `worker` for `spec` (fibers, stacks, thread indices); false with `worker->error` set if the
/// memory cannot be had.
bool prepare_worker(Worker *worker, const LaunchSpec *spec);
/// Runs one block to the end on the calling thread; false with `worker->error` set if it failed.
bool run_block(Worker *worker, unsigned long long blockIndex);
/// Installs the handler that turns a memory fault inside a kernel into a launch error (once).
void install_fault_handler();

}  // namespace wk_emu

#endif
