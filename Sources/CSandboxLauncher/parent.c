// SPDX-License-Identifier: Apache-2.0
// The supervisor's side of a launch: set up the control channels and the child's stack, clone,
// map ids, release the child, learn how setup ended, and make sure a failed launch leaves nothing
// behind (the child is killed and reaped before anything it could touch is freed).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "netns_pool.h"
#include "spawner.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define CHILD_STACK_SIZE (256 * 1024)

static void close_if_open(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void record_failure(struct warden_child *c, int step, int error, int index) {
    c->failed_step = step;
    c->failed_errno = error;
    c->failed_index = index;
}

/// Reads the child's report until EOF: nothing means execve succeeded (or the child never got
/// to report). Blocks until every write end is closed.
static int read_report(struct warden_child *c, struct warden_report *report) {
    size_t got = 0;
    char *buffer = (char *)report;
    while (got < sizeof(*report)) {
        ssize_t n = read(c->report_fd, buffer + got, sizeof(*report) - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got == sizeof(*report)) {
        char extra;   // then EOF: the child must be off its stack before the stack is unmapped
        while (read(c->report_fd, &extra, 1) < 0 && errno == EINTR) {}
    }
    return got == sizeof(*report);
}

/// Kills (if still alive) and reaps the child, then frees everything the launch holds. A report
/// the child wrote before it died (it runs its early steps while the parent works) replaces
/// `failed_*`: it names the first thing that went wrong. Returns whether there was one.
static int dispose(struct warden_child *c) {
    int reported = 0;
    if (c->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        while (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &info, WEXITED) < 0 && errno == EINTR) {}
        struct warden_report report;
        if (c->report_fd >= 0 && read_report(c, &report)) {
            record_failure(c, report.step, report.error, report.index);
            reported = 1;
        }
    }
    close_if_open(&c->pidfd);
    close_if_open(&c->sync_fd);
    close_if_open(&c->report_fd);
    close_if_open(&c->fdpass_fd);
    close_if_open(&c->seccomp_listener);
    for (int i = 0; i < 16; i++) close_if_open(&c->listeners[i]);
    if (c->stack) munmap(c->stack, c->stack_size);
    c->stack = NULL;
    return reported;
}

/// Timestamps a parent-side step when the plan asks for step tracing.
static void trace(const struct warden_launch *plan, struct warden_child *c, int step) {
    if (!(plan->flags & WARDEN_LAUNCH_TRACE_STEPS)) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    c->step_ns[step] = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void reset(struct warden_child *c) {
    memset(c, 0, sizeof(*c));
    c->pid = -1;
    c->pidfd = c->sync_fd = c->report_fd = c->fdpass_fd = c->seccomp_listener = -1;
    c->failed_index = -1;
    for (int i = 0; i < 16; i++) c->listeners[i] = -1;
}

static int needs_fd_passing(const struct warden_launch *plan) {
    return plan->listen_port_count > 0 || (plan->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

/// Pipes, socketpair and stack; the child's context lives at the top of its own stack mapping.
static struct warden_child_ctx *prepare(const struct warden_launch *plan, struct warden_child *c, int child_ends[3]) {
    int sync[2], report[2], pair[2] = {-1, -1};
    // The release channel is a socket, not a pipe: the parent sends with MSG_NOSIGNAL, so a child
    // that already died of an early failure gives EPIPE rather than a SIGPIPE to the supervisor.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) return NULL;
    c->sync_fd = sync[1];
    child_ends[0] = sync[0];
    if (pipe2(report, O_CLOEXEC) < 0) return NULL;
    c->report_fd = report[0];
    child_ends[1] = report[1];
    if (needs_fd_passing(plan) && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return NULL;
    c->fdpass_fd = pair[0];
    child_ends[2] = pair[1];
    void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return NULL;
    c->stack = stack;
    c->stack_size = CHILD_STACK_SIZE;
    // Guard page: an overflow faults instead of corrupting the supervisor's memory next to it.
    if (mprotect(stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE) < 0) return NULL;
    struct warden_child_ctx *ctx = (struct warden_child_ctx *)((char *)stack + CHILD_STACK_SIZE) - 1;
    *ctx = (struct warden_child_ctx){.plan = plan, .shared = c, .sync_fd = sync[0], .report_fd = report[1],
                                     .fdpass_fd = pair[1], .index = -1};
    return ctx;
}

/// What the spawner thread does for a launch right after clone3.
struct after_clone_work {
    const struct warden_launch *plan;
    struct warden_child *c;
    int step;     ///< the step after_clone was in
    int error;
};

/// Sends the one byte that lets the child continue past its early steps.
static int release(struct warden_child *c) {
    char go = 1;
    ssize_t n;
    do n = send(c->sync_fd, &go, 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n == 1) { c->released = 1; return 0; }
    return n < 0 ? -errno : -EIO;
}

/// On the spawner thread, while the caller waits (or on the caller's own thread with
/// WARDEN_LAUNCH_CALLING_THREAD): the id maps, the hook, and the release. The
/// child never waits for the calling thread to be scheduled again (a delay of a scheduler slice
/// on a loaded machine); the caller wakes once, when the child has exec'd or failed.
static int after_clone(long pid, void *arg) {
    struct after_clone_work *work = arg;
    const struct warden_launch *plan = work->plan;
    trace(plan, work->c, WARDEN_STEP_ID_MAP);
    work->step = WARDEN_STEP_ID_MAP;
    int error = warden_parent_write_id_maps((pid_t)pid, plan);
    if (error) return error;
    if (plan->before_exec) {
        trace(plan, work->c, WARDEN_STEP_HOOK);
        work->step = WARDEN_STEP_HOOK;
        if (plan->before_exec((pid_t)pid, plan->before_exec_context) != 0) return -ECANCELED;
    }
    work->step = WARDEN_STEP_SYNC;
    return release(work->c);
}

static long clone_child(const struct warden_launch *plan, struct warden_child *c, struct warden_child_ctx *ctx) {
    uint64_t flags = CLONE_VM | CLONE_PIDFD | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    int netns_fd = -1;
    if (!(plan->flags & WARDEN_LAUNCH_SHARE_NET)) {
        netns_fd = warden_netns_pool_take();   // prepared, lo up; else a fresh one
        if (netns_fd < 0) flags |= CLONE_NEWNET;
        ctx->prepared_net = netns_fd >= 0;
    }
    if (plan->cgroup_fd >= 0) flags |= CLONE_INTO_CGROUP;
    // The stack ends where the context begins, 16-byte aligned.
    uintptr_t top = ((uintptr_t)ctx) & ~(uintptr_t)15;
    struct clone_args args = {
        .flags = flags,
        .pidfd = (uint64_t)(uintptr_t)&c->pidfd,
        .exit_signal = SIGCHLD,
        .stack = (uint64_t)(uintptr_t)c->stack,
        .stack_size = top - (uintptr_t)c->stack,
        .cgroup = plan->cgroup_fd >= 0 ? (uint64_t)plan->cgroup_fd : 0,
    };
    struct after_clone_work work = {plan, c, WARDEN_STEP_SPAWN, 0};   // a failure before the id maps is a spawn failure
    long pid = (plan->flags & WARDEN_LAUNCH_CALLING_THREAD)
        ? warden_spawn_here(&args, ctx, netns_fd, after_clone, &work, &work.error)
        : warden_spawn(&args, ctx, netns_fd, after_clone, &work, &work.error);
    if (netns_fd >= 0) close(netns_fd);   // the child holds the namespace now
    if (pid > 0 && work.error) {
        c->pid = (pid_t)pid;
        record_failure(c, work.step, -work.error, -1);
        return -EAGAIN;   // recorded; the caller disposes
    }
    return pid;
}

int warden_launch_begin(const struct warden_launch *plan, struct warden_child *c) {
    reset(c);
    if (plan->listen_port_count > 16 || plan->seccomp_length % 8 != 0) {
        record_failure(c, WARDEN_STEP_SPAWN, EINVAL, -1);
        return -1;
    }
    trace(plan, c, WARDEN_STEP_SPAWN);
    int child_ends[3] = {-1, -1, -1};
    struct warden_child_ctx *ctx = prepare(plan, c, child_ends);
    long pid = ctx ? clone_child(plan, c, ctx) : -errno;
    for (int i = 0; i < 3; i++) close_if_open(&child_ends[i]);   // the child has its own copies
    if (pid == -EAGAIN && c->failed_step) {   // cloned, but the id maps or the release failed
        dispose(c);
        return -1;
    }
    if (pid < 0) {
        record_failure(c, WARDEN_STEP_SPAWN, (int)-pid, -1);
        c->pidfd = -1;
        dispose(c);
        return -1;
    }
    c->pid = (pid_t)pid;
    return 0;
}

/// Takes the fds the child sent: TCP listeners (tagged by index) and the seccomp listener.
static void receive_fds(struct warden_child *c) {
    for (;;) {
        uint32_t tag;
        union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
        struct iovec iov = {.iov_base = &tag, .iov_len = sizeof(tag)};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof(control.buffer)};
        ssize_t n = recvmsg(c->fdpass_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n != sizeof(tag)) return;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) continue;
        int fd;
        memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
        if (tag == WARDEN_FDPASS_SECCOMP) { close_if_open(&c->seccomp_listener); c->seccomp_listener = fd; }
        else if (tag < 16) { close_if_open(&c->listeners[tag]); c->listeners[tag] = fd; }
        else close(fd);
    }
}

int warden_launch_finish(const struct warden_launch *plan, struct warden_child *c) {
    (void)plan;
    int error = c->released ? 0 : release(c);
    if (error) {
        record_failure(c, WARDEN_STEP_SYNC, -error, -1);
        dispose(c);
        return -1;
    }
    struct warden_report report;
    int failed = read_report(c, &report);
    // The child has exec'd or exited: its stack and the sync pipe are ours to release.
    close_if_open(&c->sync_fd);
    close_if_open(&c->report_fd);
    munmap(c->stack, c->stack_size);
    c->stack = NULL;
    if (failed) {
        record_failure(c, report.step, report.error, report.index);
        dispose(c);
        return -1;
    }
    if (c->fdpass_fd >= 0) receive_fds(c);
    close_if_open(&c->fdpass_fd);
    return 0;
}

int warden_launch_settle(const struct warden_launch *plan, struct warden_child *c) {
    (void)plan;
    // The child has ended, so every write end of the report pipe is closed: its report or EOF
    // comes at once, and nothing runs on its stack any more.
    struct warden_report report;
    int failed = read_report(c, &report);
    close_if_open(&c->sync_fd);
    close_if_open(&c->report_fd);
    close_if_open(&c->fdpass_fd);
    if (c->stack) munmap(c->stack, c->stack_size);
    c->stack = NULL;
    if (failed) {
        record_failure(c, report.step, report.error, report.index);
        return -1;
    }
    return 0;
}

int warden_launch_abort(struct warden_child *c) {
    return dispose(c);
}
