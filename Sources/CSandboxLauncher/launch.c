// SPDX-License-Identifier: Apache-2.0
// The child's checklist, from clone to execve, in order (nsjail's contain.cc is the model).
//
// The child runs on its own stack inside the supervisor's address space (clone3 + CLONE_VM):
// raw system calls only (sys.h), no allocation, no errno. Each step returns 0 or -errno; the
// first failure is written as {step, errno, index} to the CLOEXEC report pipe and the child exits.
// A successful execve closes that pipe, which is how the parent learns that exec happened.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <time.h>

#include "child.h"
#include "sys.h"

static const char *const step_names[WARDEN_STEP_COUNT] = {
    [WARDEN_STEP_NONE] = "none",
    [WARDEN_STEP_SPAWN] = "clone3",
    [WARDEN_STEP_ID_MAP] = "uid/gid map",
    [WARDEN_STEP_HOOK] = "beforeExec hook",
    [WARDEN_STEP_SYNC] = "wait for supervisor",
    [WARDEN_STEP_PDEATHSIG] = "parent-death signal",
    [WARDEN_STEP_CGROUP_NS] = "cgroup namespace",
    [WARDEN_STEP_CGROUP_ATTACH] = "cgroup attach",
    [WARDEN_STEP_BIND_SOURCE] = "bind source",
    [WARDEN_STEP_ROOT_TMPFS] = "root tmpfs",
    [WARDEN_STEP_MOUNT_TARGET] = "mount target",
    [WARDEN_STEP_MOUNT] = "mount",
    [WARDEN_STEP_PIVOT_ROOT] = "pivot_root",
    [WARDEN_STEP_HOSTNAME] = "hostname",
    [WARDEN_STEP_IDENTITY] = "uid/gid switch",
    [WARDEN_STEP_SETSID] = "setsid",
    [WARDEN_STEP_RLIMITS] = "rlimit",
    [WARDEN_STEP_LOOPBACK] = "loopback up",
    [WARDEN_STEP_LISTEN] = "loopback listener",
    [WARDEN_STEP_CHDIR] = "chdir",
    [WARDEN_STEP_FDS] = "file descriptors",
    [WARDEN_STEP_CAPS] = "drop capabilities",
    [WARDEN_STEP_NO_NEW_PRIVS] = "no_new_privs",
    [WARDEN_STEP_SIGNALS] = "signal dispositions",
    [WARDEN_STEP_UNBLOCK_SIGNALS] = "signal mask",
    [WARDEN_STEP_SECCOMP] = "seccomp",
    [WARDEN_STEP_SEND_LISTENER] = "send seccomp listener",
    [WARDEN_STEP_EXECVE] = "execve",
};

const char *warden_step_name(int step) {
    if (step < 0 || step >= WARDEN_STEP_COUNT || !step_names[step]) return "unknown";
    return step_names[step];
}

void warden_mark(struct warden_child_ctx *ctx, int step) {
    ctx->step = step;
    ctx->index = -1;
    if (ctx->plan->flags & WARDEN_LAUNCH_TRACE_STEPS) {
        struct timespec ts;
        SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
        // The parent reads these only after the child has exec'd or died.
        ctx->shared->step_ns[step] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
}

/// Reports the failed step to the parent and exits; never returns.
static void __attribute__((noreturn)) fail(struct warden_child_ctx *ctx, long error) {
    struct warden_report report = {.step = ctx->step, .error = (int32_t)-error, .index = ctx->index};
    SYS3(SYS_write, ctx->report_fd, &report, sizeof(report));
    for (;;) SYS1(SYS_exit_group, 127);
}

/// Blocks until the parent has written the id maps and run its hook. EOF: the parent gave up or died.
static int wait_for_parent(struct warden_child_ctx *ctx) {
    char go;
    long n;
    do n = SYS3(SYS_read, ctx->sync_fd, &go, 1); while (n == -EINTR);
    if (n < 0) return (int)n;
    return n == 1 ? 0 : -ECANCELED;
}

/// Arms the parent-death signal, then checks the supervisor did not die before it was armed: the
/// parent holds its end of the release socket until the child has exec'd, so a hangup means it is gone.
static int arm_parent_death_signal(struct warden_child_ctx *ctx) {
    if (!ctx->plan->pdeath_signal) return 0;
    long r = SYS2(SYS_prctl, PR_SET_PDEATHSIG, ctx->plan->pdeath_signal);
    if (r < 0) return (int)r;
    struct { int fd; short events, revents; } pfd = {ctx->sync_fd, 0, 0};
    struct timespec zero = {0, 0};
    r = SYS5(SYS_ppoll, &pfd, 1, &zero, NULL, 0);
    if (r < 0) return (int)r;
    return (pfd.revents & (0x10 /* POLLHUP */ | 0x8 /* POLLERR */)) ? -ECANCELED : 0;
}

/// Moves this process (one thread: a CLONE_VM child has no others) into each v1 group by writing
/// "0" to the `tasks` fd the supervisor opened, then closes the fds.
static int attach_cgroups(struct warden_child_ctx *ctx) {
    const struct warden_launch *plan = ctx->plan;
    for (size_t i = 0; i < plan->cgroup_task_fd_count; i++) {
        ctx->index = (int)i;
        long r;
        do r = SYS3(SYS_write, plan->cgroup_task_fds[i], "0", 1); while (r == -EINTR);
        if (r < 0) return (int)r;
        SYS1(SYS_close, plan->cgroup_task_fds[i]);
    }
    ctx->index = -1;
    return 0;
}

static int set_hostname(const struct warden_launch *plan) {
    if (!plan->hostname) return 0;
    return (int)SYS2(SYS_sethostname, plan->hostname, warden_strlen(plan->hostname));
}

static int change_directory(const struct warden_launch *plan) {
    return (int)SYS1(SYS_chdir, plan->cwd ? plan->cwd : "/");
}

/// execve, or for a bare name each directory of the plan's PATH in turn (execvpe's rule).
static long exec_program(const struct warden_launch *plan) {
    const char *path = plan->path;
    for (const char *p = path; *p; p++)
        if (*p == '/') return SYS3(SYS_execve, path, plan->argv, plan->envp);
    const char *search = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = plan->envp; *e; e++)
        if ((*e)[0] == 'P' && (*e)[1] == 'A' && (*e)[2] == 'T' && (*e)[3] == 'H' && (*e)[4] == '=') search = *e + 5;
    size_t name_len = warden_strlen(path);
    long result = -ENOENT;
    char candidate[4096];
    while (*search) {
        size_t dir_len = 0;
        while (search[dir_len] && search[dir_len] != ':') dir_len++;
        if (dir_len > 0 && dir_len + name_len + 2 <= sizeof(candidate)) {
            for (size_t i = 0; i < dir_len; i++) candidate[i] = search[i];
            candidate[dir_len] = '/';
            for (size_t i = 0; i <= name_len; i++) candidate[dir_len + 1 + i] = path[i];
            long r = SYS3(SYS_execve, candidate, plan->argv, plan->envp);
            if (r != -ENOENT && r != -ENOTDIR) result = r;  // EACCES beats ENOENT, as in execvp
        }
        search += dir_len;
        if (*search == ':') search++;
    }
    return result;
}

#define CHECK(ctx, call) do { long r_ = (call); if (r_ < 0) fail((ctx), r_); } while (0)
#define STEP(ctx, step, call) do { warden_mark((ctx), (step)); CHECK((ctx), (call)); } while (0)

/// The checklist. Order matters: see the comment on each line.
int warden_child_main(void *arg) {
    struct warden_child_ctx *ctx = arg;
    const struct warden_launch *plan = ctx->plan;
    struct warden_mount_sources sources;
    int listener = -1;

    // Before the parent releases us: steps that need neither the id maps nor the cgroup run
    // while the parent writes the maps and runs its hook (two cores do both at once).
    STEP(ctx, WARDEN_STEP_SIGNALS, warden_reset_signals());         // nothing of the supervisor's may run here
    STEP(ctx, WARDEN_STEP_PDEATHSIG, arm_parent_death_signal(ctx)); // die with the supervisor, from now on
    STEP(ctx, WARDEN_STEP_CGROUP_ATTACH, attach_cgroups(ctx));      // v1 limits before anything heavy (v2: born inside)
    STEP(ctx, WARDEN_STEP_SETSID, SYS0(SYS_setsid));                // no controlling terminal: no TIOCSTI into the host's
    STEP(ctx, WARDEN_STEP_HOSTNAME, set_hostname(plan));
    if (!(plan->flags & WARDEN_LAUNCH_SHARE_NET)) {
        if (!ctx->prepared_net)
            STEP(ctx, WARDEN_STEP_LOOPBACK, warden_loopback_up());  // needs CAP_NET_ADMIN in the new netns
        STEP(ctx, WARDEN_STEP_LISTEN, warden_open_listeners(ctx));  // the broker's endpoint, created inside
    }
    STEP(ctx, WARDEN_STEP_BIND_SOURCE, warden_open_mount_sources(ctx, &sources)); // host paths, with the supervisor's rights
    STEP(ctx, WARDEN_STEP_ROOT_TMPFS, warden_enter_new_root(ctx));  // empty tmpfs root, pivot_root, old root detached
    STEP(ctx, WARDEN_STEP_SYNC, wait_for_parent(ctx));              // id maps written, the hook (if any) run
    STEP(ctx, WARDEN_STEP_CGROUP_NS, SYS1(SYS_unshare, CLONE_NEWCGROUP)); // rooted at the run's cgroup, now that we are in it
    STEP(ctx, WARDEN_STEP_IDENTITY, warden_set_identity(plan));     // the agent's ids; capabilities in the userns stay
    STEP(ctx, WARDEN_STEP_PDEATHSIG, arm_parent_death_signal(ctx)); // the uid change cleared it
    CHECK(ctx, warden_populate_root(ctx, &sources));                // binds, proc, dev, tmpfs, links; root read-only
    // fds before rlimits: arranging duplicates fds while the supervisor's inherited table (closed
    // only at exec) is still open, and a busy supervisor holds more than a low RLIMIT_NOFILE allows.
    STEP(ctx, WARDEN_STEP_FDS, warden_arrange_fds(ctx));            // only 0, 1, 2 and the listed fds survive exec
    STEP(ctx, WARDEN_STEP_RLIMITS, warden_apply_rlimits(ctx));
    STEP(ctx, WARDEN_STEP_CHDIR, change_directory(plan));
    STEP(ctx, WARDEN_STEP_CAPS, warden_drop_capabilities());        // all five sets
    STEP(ctx, WARDEN_STEP_NO_NEW_PRIVS, warden_set_no_new_privs());
    STEP(ctx, WARDEN_STEP_UNBLOCK_SIGNALS, warden_unblock_signals());       // before seccomp, which may deny rt_sigprocmask
    STEP(ctx, WARDEN_STEP_SECCOMP, warden_install_seccomp(plan, &listener)); // last but for the hand-off and exec
    if (listener >= 0) {
        STEP(ctx, WARDEN_STEP_SEND_LISTENER, warden_send_fd(ctx->fdpass_fd, listener, WARDEN_FDPASS_SECCOMP));
        SYS1(SYS_close, listener);                                  // the agent must never hold its own listener
    }
    warden_mark(ctx, WARDEN_STEP_EXECVE);
    fail(ctx, exec_program(plan));
}
