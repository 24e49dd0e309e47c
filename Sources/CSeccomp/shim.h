#ifndef WARDEN_CSECCOMP_SHIM_H
#define WARDEN_CSECCOMP_SHIM_H
// libseccomp for Swift. Only `static inline` helpers live here: Swift cannot call C-variadic
// functions (seccomp_rule_add) or function-like macros (SCMP_ACT_ERRNO), so each gets a wrapper.
#include <seccomp.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline uint32_t warden_scmp_act_errno(uint16_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t warden_scmp_act_trace(uint16_t msg) { return SCMP_ACT_TRACE(msg); }
static inline uint32_t warden_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t warden_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t warden_scmp_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t warden_scmp_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t warden_scmp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t warden_scmp_act_notify(void) { return SCMP_ACT_NOTIFY; }

/// AUDIT_ARCH_X86_64, the only ABI Warden's filters admit (i386 and x32 hit the bad-arch action).
static inline uint32_t warden_scmp_arch_x86_64(void) { return SCMP_ARCH_X86_64; }

/// One argument comparison, the struct the SCMP_A0..A5 macros build.
static inline struct scmp_arg_cmp warden_scmp_arg(unsigned int arg, enum scmp_compare op,
                                                  scmp_datum_t a, scmp_datum_t b) {
    struct scmp_arg_cmp cmp = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };
    return cmp;
}

/// memfd_create(name, MFD_CLOEXEC): where seccomp_export_bpf writes the filter (Glibc's Swift
/// module hides memfd_create behind _GNU_SOURCE).
static inline int warden_memfd_cloexec(const char *name) { return (int)syscall(SYS_memfd_create, name, 1u); }

/// A raw system call with six arguments (Swift cannot call the variadic syscall()); tests use it to
/// probe a filter with exact argument values, including ones libc would never pass.
static inline long warden_raw_syscall6(long nr, unsigned long a0, unsigned long a1, unsigned long a2,
                                       unsigned long a3, unsigned long a4, unsigned long a5) {
    return syscall(nr, a0, a1, a2, a3, a4, a5);
}

#endif
