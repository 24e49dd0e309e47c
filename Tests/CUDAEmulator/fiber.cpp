// The context switch. On x86-64 (System V) a switch pushes the six callee-saved registers, swaps rsp
// and pops them: no syscall, no signal mask, a few nanoseconds. MXCSR and the x87 control word are
// callee-saved too, but kernels never change them, so they stay as the OS thread has them.
#include "fiber.h"

#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#if WK_EMU_ASM_SWITCH

extern "C" void wk_emu_switch_stacks(void **save_sp, void *new_sp);
// The second half of the switch: resumes the context whose saved rsp is in rsp (used by the fault handler).
extern "C" void wk_emu_resume_stack(void);

// wk_emu_switch_stacks(rdi = where to save rsp, rsi = the rsp to resume).
asm(R"(
    .text
    .globl wk_emu_switch_stacks
    .hidden wk_emu_switch_stacks
    .type wk_emu_switch_stacks, @function
    .p2align 4
wk_emu_switch_stacks:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    .globl wk_emu_resume_stack
    .hidden wk_emu_resume_stack
wk_emu_resume_stack:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size wk_emu_switch_stacks, .-wk_emu_switch_stacks
)");

namespace wk_emu {

void context_make(Context *context, void *stack_base, size_t stack_size, void (*entry)()) {
    // The first switch pops six zeroed registers and "returns" into entry with rsp ≡ 8 (mod 16), as
    // if entry had just been called; the slot above is the (never used) return address of entry.
    uintptr_t top = (reinterpret_cast<uintptr_t>(stack_base) + stack_size) & ~uintptr_t(15);
    void **sp = reinterpret_cast<void **>(top);
    *--sp = nullptr;
    *--sp = reinterpret_cast<void *>(entry);
    for (int i = 0; i < 6; i++) *--sp = nullptr;
    context->sp = sp;
}

void context_switch(Context *from, Context *to) { wk_emu_switch_stacks(&from->sp, to->sp); }

bool context_redirect_signal(void *signal_ucontext, Context *to) {
    auto *uc = static_cast<ucontext_t *>(signal_ucontext);
    uc->uc_mcontext.gregs[REG_RSP] = reinterpret_cast<greg_t>(to->sp);
    uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(&wk_emu_resume_stack);
    return true;
}

}  // namespace wk_emu

#else

namespace wk_emu {

void context_make(Context *context, void *stack_base, size_t stack_size, void (*entry)()) {
    getcontext(&context->uc);
    context->uc.uc_stack.ss_sp = stack_base;
    context->uc.uc_stack.ss_size = stack_size;
    context->uc.uc_link = nullptr;
    makecontext(&context->uc, entry, 0);
}

void context_switch(Context *from, Context *to) { swapcontext(&from->uc, &to->uc); }

bool context_redirect_signal(void *signal_ucontext, Context *to) {
    // Returning from the handler restores the registers swapcontext saved in `to`.
    auto *uc = static_cast<ucontext_t *>(signal_ucontext);
#if defined(__x86_64__)
    // Only the registers swapcontext saves; the others (flags, segments) stay as the kernel has them.
    static const int saved[] = {REG_RBX, REG_RBP, REG_R12, REG_R13, REG_R14, REG_R15, REG_RDI,
                                REG_RSI, REG_RDX, REG_RCX, REG_R8,  REG_R9,  REG_RSP, REG_RIP};
    for (int r : saved) uc->uc_mcontext.gregs[r] = to->uc.uc_mcontext.gregs[r];
    return true;
#elif defined(__aarch64__)
    memcpy(uc->uc_mcontext.regs, to->uc.uc_mcontext.regs, sizeof uc->uc_mcontext.regs);
    uc->uc_mcontext.sp = to->uc.uc_mcontext.sp;
    uc->uc_mcontext.pc = to->uc.uc_mcontext.pc;
    uc->uc_mcontext.pstate = to->uc.uc_mcontext.pstate;
    return true;
#else
    (void)uc;
    (void)to;
    return false;
#endif
}

}  // namespace wk_emu

#endif
