// SPDX-License-Identifier: Apache-2.0
// Resource limits, applied with prlimit64 to the child itself. They hold per process (RLIMIT_NPROC
// counts the host uid's processes), which is why the supervisor adds cgroup limits on top.
#define _GNU_SOURCE
#include "child.h"
#include "sys.h"

int warden_apply_rlimits(struct warden_child_ctx *ctx) {
    const struct warden_launch *plan = ctx->plan;
    for (size_t i = 0; i < plan->rlimit_count; i++) {
        const struct warden_rlimit *l = &plan->rlimits[i];
        struct { uint64_t soft, hard; } value = {l->soft, l->hard};
        ctx->index = (int)i;
        long r = SYS4(SYS_prlimit64, 0, l->resource, &value, 0);
        if (r < 0) return (int)r;
    }
    ctx->index = -1;
    return 0;
}
