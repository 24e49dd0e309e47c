// Running one block: its threads are fibers on the calling OS thread, run in order, each until it stops
// at a shuffle, a barrier or its end. Lanes of a warp run one after another; when the last lane of a
// warp stops, the warp is judged: all at a shuffle → the shuffle completes and the warp runs again
// from lane 0; otherwise the next warp runs. When the last warp stops the block is judged: all at
// wk_sync → the barrier opens and the block runs again from thread 0; all returned → done; a mix is
// a divergent barrier, reported as the launch's error. So nothing can hang and one switch moves one
// thread past one barrier.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

__thread wk_emu_fiber_view *wk_emu_current_fiber;
__thread wk_emu_block_view wk_emu_current_block;

namespace wk_emu {

namespace {

__thread Worker *tls_worker;

Fiber *current_fiber() { return reinterpret_cast<Fiber *>(wk_emu_current_fiber); }

/// Formats the launch's error: the kernel, the block, the thread, then the message.
void set_error(Worker *w, const Fiber *f, const char *format, ...) {
    const wk_emu_uint3 &b = wk_emu_current_block.block_idx;
    int used = snprintf(w->error, sizeof w->error, "%s: block (%u,%u,%u), thread (%u,%u,%u): ", w->launch->kernel->name,
                        b.x, b.y, b.z, f->view.thread_idx.x, f->view.thread_idx.y, f->view.thread_idx.z);
    if (used < 0 || (size_t)used >= sizeof w->error) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(w->error + used, sizeof w->error - (size_t)used, format, arguments);
    va_end(arguments);
    w->failed = true;
}

/// Leaves the block for good from inside a fiber (its error already set).
[[noreturn]] void abandon(Worker *w, Fiber *f) {
    w->switches++;
    context_switch(&f->context, &w->main);
    __builtin_unreachable();
}

const char *describe(State s) {
    switch (s) {
    case State::atSync: return "waits at wk_sync()";
    case State::atShuffle: return "waits at a shuffle";
    case State::done: return "returned";
    default: return "runs";
    }
}

/// The fiber to run after `f` stopped, or null to go back to the launching thread (block finished or
/// failed). Opens a completed shuffle or barrier by marking its threads running again.
Fiber *next_fiber(Worker *w, Fiber *f) {
    Fiber *fibers = w->fibers;
    unsigned n = w->count, i = (unsigned)(f - fibers);
    unsigned warpStart = i & ~31u, warpEnd = warpStart + 32 < n ? warpStart + 32 : n;
    if (i + 1 < warpEnd) return f + 1;

    unsigned shuffling = 0;
    for (unsigned j = warpStart; j < warpEnd; j++) shuffling += fibers[j].state == State::atShuffle;
    if (shuffling == warpEnd - warpStart) {
        for (unsigned j = warpStart; j < warpEnd; j++) fibers[j].state = State::running;
        w->shuffleGeneration[warpStart / 32]++;
        return &fibers[warpStart];
    }
    if (shuffling > 0) {
        for (unsigned j = warpStart; j < warpEnd; j++) {
            if (fibers[j].state == State::atShuffle) continue;
            const Fiber *other = &fibers[j];
            for (unsigned k = warpStart; k < warpEnd; k++) {
                if (fibers[k].state != State::atShuffle) continue;
                set_error(w, &fibers[k], "waits at a shuffle while lane %u of its warp, thread (%u,%u,%u), %s (a divergent shuffle)",
                          j - warpStart, other->view.thread_idx.x, other->view.thread_idx.y, other->view.thread_idx.z,
                          describe(other->state));
                return nullptr;
            }
        }
    }
    if (warpEnd < n) return &fibers[warpEnd];

    unsigned syncing = 0;
    for (unsigned j = 0; j < n; j++) syncing += fibers[j].state == State::atSync;
    if (syncing == n) {
        for (unsigned j = 0; j < n; j++) fibers[j].state = State::running;
        return &fibers[0];
    }
    if (syncing == 0) return nullptr;  // every thread returned: the block is done
    const Fiber *waiting = nullptr, *gone = nullptr;
    for (unsigned j = 0; j < n; j++) {
        if (fibers[j].state == State::atSync && !waiting) waiting = &fibers[j];
        if (fibers[j].state == State::done && !gone) gone = &fibers[j];
    }
    set_error(w, waiting, "waits at wk_sync() while thread (%u,%u,%u) returned (a divergent barrier)",
              gone->view.thread_idx.x, gone->view.thread_idx.y, gone->view.thread_idx.z);
    return nullptr;
}

/// `f` stops in `state`; returns when it may go on (at once if it is the only thread to wait for).
void stop(Worker *w, Fiber *f, State state) {
    f->state = state;
    Fiber *next = next_fiber(w, f);
    if (next == f) return;
    w->switches++;
    if (next) {
        wk_emu_current_fiber = &next->view;
        context_switch(&f->context, &next->context);
    } else {
        context_switch(&f->context, &w->main);
    }
}

void fiber_entry() {
    Worker *w = tls_worker;
    w->launch->kernel->invoke(w->launch->params);
    stop(w, current_fiber(), State::done);
    __builtin_unreachable();  // a finished fiber is never resumed
}

}  // namespace

Worker *current_worker() {
    static thread_local struct Owner {
        Worker *worker = nullptr;
        ~Owner() {
            delete worker;
            tls_worker = nullptr;
        }
    } owner;
    if (!owner.worker) owner.worker = tls_worker = new Worker();
    return owner.worker;
}

Worker *current_worker_if_any() { return tls_worker; }

bool run_block(Worker *w, unsigned long long blockIndex) {
    const LaunchSpec *spec = w->launch;
    unsigned long long perPlane = (unsigned long long)spec->grid.x * spec->grid.y;
    wk_emu_current_block.block_idx = {(unsigned)(blockIndex % spec->grid.x), (unsigned)(blockIndex / spec->grid.x % spec->grid.y),
                                      (unsigned)(blockIndex / perPlane)};
    wk_emu_current_block.block_dim = spec->block;
    wk_emu_current_block.grid_dim = spec->grid;
    for (unsigned i = 0; i < w->count; i++) {
        Fiber *f = &w->fibers[i];
        f->state = State::running;
        context_make(&f->context, w->stacks + (size_t)i * (guardSize + stackSize) + guardSize, stackSize, fiber_entry);
    }
    if (spec->sharedBytes) memset(w->dynamicShared, 0xff, spec->sharedBytes);
    w->failed = false;
    w->inBlock = true;
    wk_emu_current_fiber = &w->fibers[0].view;
    w->switches++;
    context_switch(&w->main, &w->fibers[0].context);
    w->inBlock = false;
    wk_emu_current_fiber = nullptr;
    return !w->failed;
}

}  // namespace wk_emu

using namespace wk_emu;

extern "C" void wk_emu_sync(void) {
    Worker *w = tls_worker;
    stop(w, current_fiber(), State::atSync);
}

extern "C" unsigned wk_emu_shfl_bits(unsigned bits, int lane, int is_xor) {
    Worker *w = tls_worker;
    Fiber *f = current_fiber();
    unsigned index = (unsigned)(f - w->fibers), own = index & 31u, warp = index / 32;
    unsigned lanes = w->count - warp * 32 < 32 ? w->count - warp * 32 : 32;
    if (is_xor && (lane < 0 || lane > 31)) {
        set_error(w, f, "wk_shfl_xor mask %d is outside [0, 31]", lane);
        abandon(w, f);
    }
    unsigned source = is_xor ? own ^ (unsigned)lane : (unsigned)(((lane % 32) + 32) % 32);
    if (source >= lanes) {
        set_error(w, f, "a shuffle reads lane %u of a warp that has %u lanes", source, lanes);
        abandon(w, f);
    }
    unsigned *slots = w->shuffleSlots + (warp * 2 + (w->shuffleGeneration[warp] & 1u)) * 32;
    slots[own] = bits;
    stop(w, f, State::atShuffle);
    // The slots of this generation are written again only two shuffles on, after every lane has read.
    return slots[source];
}

extern "C" void *wk_emu_dynamic_shared(void) { return tls_worker->dynamicShared; }
