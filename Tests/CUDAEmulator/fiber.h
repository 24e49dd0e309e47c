// Fibers: the smallest context switch that keeps C++ calling conventions (x86-64: callee-saved
// registers and rsp; elsewhere ucontext, which is correct but makes a syscall per switch).
#ifndef WK_EMU_FIBER_H
#define WK_EMU_FIBER_H

#include <stddef.h>

#if defined(__x86_64__) && !defined(WK_EMU_FORCE_UCONTEXT)
#define WK_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

namespace wk_emu {

/// A saved execution context.
struct Context {
#if WK_EMU_ASM_SWITCH
    void *sp = nullptr;
#else
    ucontext_t uc;
#endif
};

/// Prepares `context` to run `entry()` on the stack [stack_base, stack_base + stack_size) when switched
/// to. `entry` must never return (it switches away for good instead).
void context_make(Context *context, void *stack_base, size_t stack_size, void (*entry)());

/// Saves the running context into `from` and resumes `to`.
void context_switch(Context *from, Context *to);

/// From a signal handler: makes the interrupted thread resume `to` (as if it had switched there) when
/// the handler returns. Returns false where that is not supported (then the fault stays fatal).
bool context_redirect_signal(void *signal_ucontext, Context *to);

}  // namespace wk_emu

#endif
