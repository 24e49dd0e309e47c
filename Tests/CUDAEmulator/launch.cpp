// The C API: the kernel registry, launch validation, and spreading a grid's blocks over a few OS
// threads (each block runs to its end on the thread that took it, so static shared memory can be
// thread_local).
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime.h"

using namespace wk_emu;

namespace {

struct Registry {
    std::mutex mutex;
    std::vector<const wk_emu_registry_entry *> entries;
};

Registry &registry() {
    static Registry *shared = new Registry();  // never destroyed: registrations run at load time
    return *shared;
}

/// One launch as the OS threads running it share it.
struct Job {
    LaunchSpec spec;
    unsigned long long blocks;
    std::atomic<unsigned long long> next{0};
    std::atomic<bool> failed{false};
    std::mutex errorMutex;
    std::string error;
};

std::atomic<unsigned long long> totalSwitches{0};
std::atomic<unsigned> threadCount{std::max(1u, std::min(8u, std::thread::hardware_concurrency()))};

/// Runs blocks of `job` on the calling thread until none are left or one failed.
void run_blocks(Job *job) {
    Worker *w = current_worker();
    bool ok = prepare_worker(w, &job->spec);
    unsigned long long before = w->switches;
    while (ok && !job->failed.load(std::memory_order_relaxed)) {
        unsigned long long block = job->next.fetch_add(1);
        if (block >= job->blocks) break;
        ok = run_block(w, block);
    }
    totalSwitches += w->switches - before;
    w->launch = nullptr;
    if (!ok) {
        std::lock_guard<std::mutex> lock(job->errorMutex);
        if (!job->failed.exchange(true)) job->error = w->error;
    }
}

/// Helper threads that join the launching thread on grids of several blocks. One launch at a time uses
/// them; a launch that finds them busy (another thread launching) runs on its own thread alone. The
/// launching thread never waits for a helper to wake up: when it has run out of blocks it withdraws
/// the job and waits only for helpers already running blocks of it.
struct Pool {
    std::mutex busy;
    std::mutex mutex;
    std::condition_variable wake, finished;
    unsigned threads = 0;
    Job *job = nullptr;
    unsigned long long generation = 0;
    unsigned wanted = 0, running = 0;

    void helper() {
        unsigned long long seen = 0;
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            wake.wait(lock, [&] { return generation != seen; });
            seen = generation;
            Job *mine = job;
            if (!mine || running >= wanted) continue;
            running++;
            lock.unlock();
            run_blocks(mine);
            lock.lock();
            if (--running == 0) finished.notify_all();
        }
    }

    void run(Job *j, unsigned helpers) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (; threads < helpers; threads++) std::thread([this] { helper(); }).detach();
            job = j;
            wanted = helpers;
            generation++;
        }
        wake.notify_all();
        run_blocks(j);
        std::unique_lock<std::mutex> lock(mutex);
        job = nullptr;
        finished.wait(lock, [&] { return running == 0; });
    }
};

Pool &pool() {
    static Pool *shared = new Pool();  // never destroyed: its threads outlive static destructors
    return *shared;
}

int fail(char *error, size_t capacity, const std::string &message) {
    if (error && capacity) snprintf(error, capacity, "%s", message.c_str());
    return -1;
}

/// The launch's shape problem, or empty if CUDA would accept it.
std::string check_shape(const char *name, const LaunchSpec &s) {
    char text[256];
    unsigned long long threads = (unsigned long long)s.block.x * s.block.y * s.block.z;
    if (!s.grid.x || !s.grid.y || !s.grid.z || !s.block.x || !s.block.y || !s.block.z) {
        snprintf(text, sizeof text, "%s: empty grid (%u,%u,%u) or block (%u,%u,%u)", name, s.grid.x, s.grid.y, s.grid.z,
                 s.block.x, s.block.y, s.block.z);
    } else if (threads > maxThreadsPerBlock || s.block.x > 1024 || s.block.y > 1024 || s.block.z > 64) {
        snprintf(text, sizeof text, "%s: block (%u,%u,%u) exceeds CUDA's limits (1024 threads; z ≤ 64)", name, s.block.x,
                 s.block.y, s.block.z);
    } else if (s.grid.x > 0x7fffffffu || s.grid.y > 65535 || s.grid.z > 65535) {
        snprintf(text, sizeof text, "%s: grid (%u,%u,%u) exceeds CUDA's limits", name, s.grid.x, s.grid.y, s.grid.z);
    } else if (s.sharedBytes > maxDynamicShared) {
        snprintf(text, sizeof text, "%s: %u bytes of dynamic shared memory exceed the %u a block can have (sm_90)",
                 name, s.sharedBytes, maxDynamicShared);
    } else {
        return std::string();
    }
    return std::string(text);
}

}  // namespace

extern "C" void wk_emu_register(const wk_emu_registry_entry *entries, size_t count) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (size_t i = 0; i < count; i++) r.entries.push_back(&entries[i]);
}

extern "C" const void *wk_emu_kernel(const char *name) {
    if (!name) return nullptr;
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (const wk_emu_registry_entry *e : r.entries) {
        if (strcmp(e->name, name) == 0) return e;
    }
    return nullptr;
}

extern "C" size_t wk_emu_kernel_count(void) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.entries.size();
}

extern "C" const void *wk_emu_kernel_at(size_t index) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return index < r.entries.size() ? r.entries[index] : nullptr;
}

extern "C" const char *wk_emu_kernel_name(const void *kernel) {
    return kernel ? static_cast<const wk_emu_registry_entry *>(kernel)->name : nullptr;
}

extern "C" const char *wk_emu_kernel_signature(const void *kernel) {
    return kernel ? static_cast<const wk_emu_registry_entry *>(kernel)->signature : nullptr;
}

extern "C" int wk_emu_launch(const void *kernel, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                             unsigned shared_bytes, void **params, char *error, size_t error_capacity) {
    if (!kernel) return fail(error, error_capacity, "unknown kernel (not in the emulator's registry)");
    auto *entry = static_cast<const wk_emu_registry_entry *>(kernel);
    Job job;
    job.spec = {entry, params, {gx, gy, gz}, {bx, by, bz}, shared_bytes};
    std::string problem = check_shape(entry->name, job.spec);
    if (!problem.empty()) return fail(error, error_capacity, problem);
    job.blocks = (unsigned long long)gx * gy * gz;
    install_fault_handler();

    // Small grids stay on the calling thread: waking a helper costs more than they take.
    unsigned long long threads = job.blocks * bx * by * bz;
    unsigned helpers = threads < 4096 ? 0 : (unsigned)std::min<unsigned long long>(threadCount.load() - 1, job.blocks - 1);
    Pool &p = pool();
    if (helpers > 0 && p.busy.try_lock()) {
        p.run(&job, helpers);
        p.busy.unlock();
    } else {
        run_blocks(&job);
    }
    if (job.failed) return fail(error, error_capacity, job.error);
    return 0;
}

extern "C" unsigned wk_emu_threads(void) { return threadCount.load(); }

extern "C" void wk_emu_set_threads(unsigned count) { threadCount.store(std::max(1u, std::min(64u, count))); }

extern "C" unsigned long long wk_emu_switch_count(void) { return totalSwitches.load(); }
