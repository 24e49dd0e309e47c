// SPDX-License-Identifier: Apache-2.0
#ifndef WARDEN_SPAWNER_H
#define WARDEN_SPAWNER_H
#include <linux/sched.h>

/// Runs clone3(args) on the launcher's long-lived thread; the child runs warden_child_main(child_ctx).
/// With `netns_fd` >= 0 the clone happens inside that network namespace. On success the spawner
/// thread then runs `after_clone(pid, after_arg)` and stores its result (0 or -errno) in
/// *after_result. Returns the pid or -errno.
long warden_spawn(struct clone_args *args, void *child_ctx, int netns_fd,
                  int (*after_clone)(long pid, void *arg), void *after_arg, int *after_result);

/// The same, on the calling thread (WARDEN_LAUNCH_CALLING_THREAD): the parent-death signal then
/// follows this thread, so it must outlive the child. With `netns_fd` >= 0 this thread enters that
/// namespace for clone3 and returns to its own; if it cannot, *after_result is an error.
long warden_spawn_here(struct clone_args *args, void *child_ctx, int netns_fd,
                       int (*after_clone)(long pid, void *arg), void *after_arg, int *after_result);

#endif
