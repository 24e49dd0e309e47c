// A worker's memory (fiber stacks with guard pages, shuffle slots, dynamic shared memory) and the fault
// handler that turns a kernel's bad memory access into the launch's error.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mutex>

#include "runtime.h"

namespace wk_emu {

namespace {

constexpr size_t alternateStackSize = 64 * 1024;

void release_stacks(Worker *w) {
    if (w->stacks) munmap(w->stacks, w->stacksLength);
    w->stacks = nullptr;
    w->stacksLength = 0;
    delete[] w->fibers;
    delete[] w->shuffleSlots;
    delete[] w->shuffleGeneration;
    w->fibers = nullptr;
    w->shuffleSlots = nullptr;
    w->shuffleGeneration = nullptr;
    w->capacity = 0;
}

/// Stacks for `capacity` fibers, each above a PROT_NONE page so an overflow faults.
bool grow(Worker *w, unsigned capacity) {
    release_stacks(w);
    size_t length = (size_t)capacity * (guardSize + stackSize);
    void *memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) return false;
    w->stacks = static_cast<char *>(memory);
    w->stacksLength = length;
    for (unsigned i = 0; i < capacity; i++) {
        if (mprotect(w->stacks + (size_t)i * (guardSize + stackSize), guardSize, PROT_NONE) != 0) {
            release_stacks(w);
            return false;
        }
    }
    unsigned warps = (capacity + 31) / 32;
    w->fibers = new Fiber[capacity];
    w->shuffleSlots = new unsigned[(size_t)warps * 64];
    w->shuffleGeneration = new unsigned[warps]();
    w->capacity = capacity;
    return true;
}

/// An alternate signal stack for this thread, so that a fiber's stack overflow can still be reported.
void ensure_alternate_stack(Worker *w) {
    stack_t current;
    if (sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
    void *memory = mmap(nullptr, alternateStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return;
    stack_t mine = {};
    mine.ss_sp = memory;
    mine.ss_size = alternateStackSize;
    if (sigaltstack(&mine, nullptr) != 0) {
        munmap(memory, alternateStackSize);
        return;
    }
    w->alternateStack = memory;
}

struct sigaction previous[3];
const int handledSignals[3] = {SIGSEGV, SIGBUS, SIGFPE};

void on_fault(int signal, siginfo_t *info, void *ucontext) {
    Worker *w = current_worker_if_any();
    if (w && w->inBlock && wk_emu_current_fiber) {
        const Fiber *f = reinterpret_cast<const Fiber *>(wk_emu_current_fiber);
        const wk_emu_uint3 &b = wk_emu_current_block.block_idx;
        const char *what = signal == SIGFPE ? "an arithmetic fault (integer division by zero?)"
                                            : "a memory fault (outside its buffers, past a guard page, or a fiber stack overflow)";
        snprintf(w->error, sizeof w->error, "%s: block (%u,%u,%u), thread (%u,%u,%u): %s at address %p",
                 w->launch->kernel->name, b.x, b.y, b.z, f->view.thread_idx.x, f->view.thread_idx.y, f->view.thread_idx.z,
                 what, info->si_addr);
        w->failed = true;
        w->inBlock = false;  // a second fault before the block is left is the emulator's own: fatal
        if (context_redirect_signal(ucontext, &w->main)) return;
    }
    // Not ours: hand it to whoever handled it before (or to the default action, by re-raising).
    for (int i = 0; i < 3; i++) {
        if (handledSignals[i] != signal) continue;
        const struct sigaction &old = previous[i];
        if (old.sa_flags & SA_SIGINFO) {
            if (old.sa_sigaction) return old.sa_sigaction(signal, info, ucontext);
        } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
            return old.sa_handler(signal);
        }
        sigaction(signal, &old, nullptr);
        return;  // the faulting instruction runs again and meets the previous disposition
    }
}

}  // namespace

Worker::~Worker() {
    release_stacks(this);
    free(dynamicShared);
    if (alternateStack) {
        stack_t off = {};
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, nullptr);
        munmap(alternateStack, alternateStackSize);
    }
}

bool prepare_worker(Worker *w, const LaunchSpec *spec) {
    unsigned threads = spec->block.x * spec->block.y * spec->block.z;
    if (threads > w->capacity) {
        unsigned capacity = 32;
        while (capacity < threads) capacity *= 2;
        if (!grow(w, capacity)) {
            snprintf(w->error, sizeof w->error, "%s: cannot map stacks for %u fibers", spec->kernel->name, capacity);
            return false;
        }
    }
    if (!w->dynamicShared) {
        w->dynamicShared = static_cast<unsigned char *>(aligned_alloc(256, maxDynamicShared));
        if (!w->dynamicShared) {
            snprintf(w->error, sizeof w->error, "%s: cannot allocate dynamic shared memory", spec->kernel->name);
            return false;
        }
    }
    ensure_alternate_stack(w);
    w->launch = spec;
    w->count = threads;
    for (unsigned i = 0; i < threads; i++) {
        w->fibers[i].view.thread_idx = {i % spec->block.x, i / spec->block.x % spec->block.y, i / (spec->block.x * spec->block.y)};
    }
    return true;
}

void install_fault_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action = {};
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        for (int i = 0; i < 3; i++) sigaction(handledSignals[i], &action, &previous[i]);
    });
}

}  // namespace wk_emu
