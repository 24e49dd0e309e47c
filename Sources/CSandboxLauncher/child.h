// SPDX-License-Identifier: Apache-2.0
// The steps of the child's checklist (launch.c), one file per kernel concern. Each step returns
// 0 or -errno and runs only raw system calls (sys.h). `index` reports which entry failed.
#ifndef WARDEN_CHILD_H
#define WARDEN_CHILD_H

#include "launcher.h"

/// What the child knows besides the plan: its ends of the control channels.
struct warden_child_ctx {
    const struct warden_launch *plan;
    struct warden_child *shared;   ///< the parent's record (same memory): step timestamps only
    int sync_fd;                   ///< release socket: one byte from the parent means go
    int report_fd;                 ///< write end, CLOEXEC: a struct warden_report on failure
    int fdpass_fd;                 ///< socketpair end for listener fds, or -1
    pid_t parent_pid;              ///< the supervisor's pid
    int prepared_net;              ///< cloned into a pooled netns: lo is up, and it is not ours to configure
    int step;                      ///< the step running now (enum warden_step)
    int index;                     ///< entry index of the failing step, -1 if none
};

/// Enters `step`: remembered for the failure report, timestamped when tracing.
void warden_mark(struct warden_child_ctx *ctx, int step);

/// The child's failure message over the report pipe.
struct warden_report {
    int32_t step;
    int32_t error;
    int32_t index;
};

/// Tag of the seccomp listener on the fd-passing socket; TCP listeners carry their port index.
#define WARDEN_FDPASS_SECCOMP 0xFFFFu

/// The child's checklist (launch.c); never returns.
int warden_child_main(void *ctx);

// ns_user.c
int warden_parent_write_id_maps(pid_t pid, const struct warden_launch *plan);
int warden_set_identity(const struct warden_launch *plan);
// ns_mount.c
#define WARDEN_MAX_MOUNTS 64
#define WARDEN_DEVICE_COUNT 5
/// Detached mount trees of the bind sources and host device nodes, opened before the root exists.
struct warden_mount_sources {
    int bind[WARDEN_MAX_MOUNTS];
    int device[WARDEN_DEVICE_COUNT];
};
int warden_open_mount_sources(struct warden_child_ctx *ctx, struct warden_mount_sources *src);
int warden_build_root(struct warden_child_ctx *ctx, const struct warden_mount_sources *src);
// caps.c
int warden_drop_capabilities(void);
int warden_set_no_new_privs(void);
// seccomp.c
int warden_install_seccomp(const struct warden_launch *plan, int *listener);
// rlimits.c
int warden_apply_rlimits(struct warden_child_ctx *ctx);
// fds.c
int warden_arrange_fds(struct warden_child_ctx *ctx);
int warden_send_fd(int socket, int fd, uint32_t tag);
// net.c
int warden_loopback_up(void);
int warden_open_listeners(struct warden_child_ctx *ctx);
// signals
int warden_reset_signals(void);
int warden_unblock_signals(void);

#endif
