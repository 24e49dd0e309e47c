// SPDX-License-Identifier: Apache-2.0
// Signals: the child starts with every signal blocked (the spawner thread's mask) and the
// supervisor's handlers installed, which point into Swift code that must never run here. It resets
// every disposition to default (ignored signals would otherwise survive exec, such as a
// supervisor's SIG_IGN for SIGPIPE) and unblocks everything just before seccomp and exec.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>

#include "child.h"
#include "sys.h"

/// The kernel's struct sigaction for rt_sigaction (not glibc's).
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

int warden_reset_signals(void) {
    struct kernel_sigaction dfl = {0, 0, 0, 0};
    for (long sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        long r = SYS4(SYS_rt_sigaction, sig, &dfl, 0, sizeof(uint64_t));
        if (r < 0 && r != -EINVAL) return (int)r;
    }
    return 0;
}

int warden_unblock_signals(void) {
    uint64_t none = 0;
    return (int)SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof(none));
}
