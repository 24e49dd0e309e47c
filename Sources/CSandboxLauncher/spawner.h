// SPDX-License-Identifier: Apache-2.0
#ifndef WARDEN_SPAWNER_H
#define WARDEN_SPAWNER_H
#include <linux/sched.h>

/// Runs clone3(args) on the launcher's long-lived thread; the child runs warden_child_main(child_ctx).
/// With `netns_fd` >= 0 the clone happens inside that network namespace. Returns the pid or -errno.
long warden_spawn(struct clone_args *args, void *child_ctx, int netns_fd);

#endif
