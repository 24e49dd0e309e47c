// SPDX-License-Identifier: Apache-2.0
// File descriptors: only 0, 1, 2 and the plan's list survive exec (the CVE-2024-21626 class of
// leak is an inherited fd). The child's table is a copy of the supervisor's at clone time, with
// whatever other threads had open, so everything >= 3 is first marked close-on-exec.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/socket.h>

#include "child.h"
#include "sys.h"

#define WARDEN_MAX_FDS 256

/// Moves each parent fd to its child number. Two passes through temporaries above every target,
/// so a source that is also some other entry's target is never overwritten before it is copied.
int warden_arrange_fds(struct warden_child_ctx *ctx) {
    const struct warden_launch *plan = ctx->plan;
    if (plan->fd_count > WARDEN_MAX_FDS) return -E2BIG;
    long r = SYS3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (r < 0) return (int)r;
    int above = 3;
    for (size_t i = 0; i < plan->fd_count; i++)
        if (plan->fds[i].child_fd >= above) above = plan->fds[i].child_fd + 1;
    int temporary[WARDEN_MAX_FDS];
    for (size_t i = 0; i < plan->fd_count; i++) {
        ctx->index = (int)i;
        r = SYS3(SYS_fcntl, plan->fds[i].parent_fd, F_DUPFD_CLOEXEC, above);
        if (r < 0) return (int)r;
        temporary[i] = (int)r;
    }
    for (size_t i = 0; i < plan->fd_count; i++) {
        ctx->index = (int)i;
        r = SYS3(SYS_dup3, temporary[i], plan->fds[i].child_fd, 0);   // the copy is not CLOEXEC
        if (r < 0) return (int)r;
        SYS1(SYS_close, temporary[i]);
    }
    ctx->index = -1;
    return 0;
}

/// Sends `fd` with a 4-byte tag over a unix socket (SCM_RIGHTS).
int warden_send_fd(int socket, int fd, uint32_t tag) {
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));   // a builtin for a constant size: no libc call
    struct iovec iov = {.iov_base = &tag, .iov_len = sizeof(tag)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                         .msg_controllen = sizeof(control.buffer)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    __builtin_memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    long r;
    do r = SYS3(SYS_sendmsg, socket, &msg, MSG_NOSIGNAL); while (r == -EINTR);
    return r < 0 ? (int)r : 0;
}
