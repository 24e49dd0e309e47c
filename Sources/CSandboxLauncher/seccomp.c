// SPDX-License-Identifier: Apache-2.0
// Seccomp: the filter is compiled by the supervisor (Sandbox.SeccompCompiler, libseccomp) and
// arrives as raw `struct sock_filter` bytes; the launcher only installs it, as the last step
// before execve (nsjail's applyPolicy, bubblewrap's --seccomp FD), so no setup call is filtered.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "child.h"
#include "sys.h"

_Static_assert(WARDEN_SECCOMP_FLAG_LOG == SECCOMP_FILTER_FLAG_LOG, "seccomp flag values");
_Static_assert(WARDEN_SECCOMP_FLAG_NEW_LISTENER == SECCOMP_FILTER_FLAG_NEW_LISTENER, "seccomp flag values");

/// Installs the plan's filter; with SECCOMP_FILTER_FLAG_NEW_LISTENER, stores the listener fd.
int warden_install_seccomp(const struct warden_launch *plan, int *listener) {
    *listener = -1;
    if (!plan->seccomp_filter || plan->seccomp_length == 0) return 0;
    if (plan->seccomp_length % sizeof(struct sock_filter) != 0) return -EINVAL;
    struct sock_fprog program = {
        .len = (unsigned short)(plan->seccomp_length / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)plan->seccomp_filter,
    };
    long r = SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan->seccomp_flags, &program);
    if (r < 0) return (int)r;
    if (plan->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) *listener = (int)r;
    return 0;
}
