// SPDX-License-Identifier: Apache-2.0
// The sandbox launcher's one flat C interface (DESIGN.md, decision 3).
//
// Swift fills a `struct warden_launch` with plain arrays and C strings, then calls
// warden_launch_begin (clone3 into new namespaces on the launcher's thread, which then writes the
// id maps, calls before_exec and releases the child) and warden_launch_finish (waits until the
// child has exec'd or failed; on failure it is killed and reaped). The child's checklist is in
// launch.c. Everything between clone and exec is C that runs on its own stack in the parent's
// address space, using raw system calls only: no malloc, no errno, no locks (the supervisor is
// multi-threaded).
#ifndef WARDEN_LAUNCHER_H
#define WARDEN_LAUNCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// One entry of the new root's mount list, applied in order. Targets are absolute paths
/// inside the sandbox; they are created (mkdir -p, or an empty file for a file bind) on the
/// fly without following symlinks.
enum warden_mount_kind {
    WARDEN_MOUNT_BIND = 1,    ///< recursive bind of host `source` at `target`
    WARDEN_MOUNT_TMPFS = 2,   ///< tmpfs at `target` (`size` bytes, 0 = kernel default; `mode`)
    WARDEN_MOUNT_PROC = 3,    ///< a fresh procfs of the new pid namespace
    WARDEN_MOUNT_DEV = 4,     ///< tmpfs with null, zero, full, random, urandom bound from the host
    WARDEN_MOUNT_SYMLINK = 5, ///< symlink at `target` whose contents are `source`
    WARDEN_MOUNT_DIR = 6,     ///< directory at `target` with `mode`
};

/// Flags of a mount entry.
enum {
    WARDEN_MOUNT_READONLY = 1u << 0, ///< read-only (recursively, for binds)
    WARDEN_MOUNT_NOEXEC = 1u << 1,   ///< no execution
    WARDEN_MOUNT_DEV_SHM = 1u << 2,  ///< WARDEN_MOUNT_DEV: also a tmpfs at /dev/shm
};

struct warden_mount {
    int kind;                 ///< enum warden_mount_kind
    unsigned int flags;       ///< WARDEN_MOUNT_* flags
    const char *source;       ///< bind: host path; symlink: link contents; otherwise NULL
    const char *target;       ///< absolute path inside the sandbox
    uint64_t size;            ///< tmpfs: size in bytes (0: kernel default)
    unsigned int mode;        ///< tmpfs and dir: permission bits
};

/// A resource limit applied with prlimit(2) in the child.
struct warden_rlimit {
    int resource;             ///< RLIMIT_*
    uint64_t soft;
    uint64_t hard;
};

/// A descriptor of the parent that the child receives as `child_fd`.
struct warden_fd_map {
    int parent_fd;
    int child_fd;
};

/// Launch-wide flags.
enum {
    WARDEN_LAUNCH_ROOT_READONLY = 1u << 0, ///< remount the tmpfs root read-only before pivot
    WARDEN_LAUNCH_SHARE_NET = 1u << 1,     ///< stay in the host network namespace (tests, tools)
    WARDEN_LAUNCH_TRACE_STEPS = 1u << 2,   ///< record a timestamp per step (benchmarks)
    /// clone3 on the calling thread instead of the launcher's spawner thread (two thread hand-offs
    /// fewer). The parent-death signal follows the thread that clones, so only for a thread that
    /// outlives the child, such as the main thread of the one-shot CLI.
    WARDEN_LAUNCH_CALLING_THREAD = 1u << 3,
};

/// Seccomp flags Swift can name (<linux/seccomp.h>'s SECCOMP_FILTER_FLAG_*; checked in seccomp.c).
enum {
    WARDEN_SECCOMP_FLAG_LOG = 1u << 1,
    WARDEN_SECCOMP_FLAG_NEW_LISTENER = 1u << 3,
};

/// Everything the child needs, flat. All pointers must stay valid until finish/abort return.
struct warden_launch {
    const char *path;                 ///< executable inside the sandbox; no '/' = search PATH in envp
    char *const *argv;                ///< NULL-terminated
    char *const *envp;                ///< NULL-terminated; exactly the agent's environment
    const char *cwd;                  ///< working directory inside the sandbox
    const char *hostname;             ///< UTS hostname (NULL: leave the kernel default)
    const struct warden_mount *mounts;
    size_t mount_count;
    uint32_t inside_uid, inside_gid;  ///< the agent's ids inside the user namespace
    uint32_t host_uid, host_gid;      ///< the unprivileged host ids they map to
    const struct warden_rlimit *rlimits;
    size_t rlimit_count;
    const void *seccomp_filter;       ///< raw `struct sock_filter` array, or NULL
    size_t seccomp_length;            ///< bytes; a multiple of 8
    unsigned int seccomp_flags;       ///< SECCOMP_FILTER_FLAG_* (NEW_LISTENER sends the fd back)
    const struct warden_fd_map *fds;  ///< stdio entries (child 0, 1, 2) included
    size_t fd_count;
    const uint16_t *listen_ports;     ///< TCP listeners bound to 127.0.0.1 in the new netns
    size_t listen_port_count;
    int cgroup_fd;                    ///< cgroup v2 directory fd for CLONE_INTO_CGROUP, or -1
    /// cgroup v1 `tasks` files the supervisor opened for writing: the child writes "0" to each as
    /// one of its first steps (a thread moving itself skips the kernel's global threadgroup lock;
    /// the kernel checks the opener's credentials, not the writer's). They reach the child in the
    /// fd table clone3 copies, and it closes them.
    const int *cgroup_task_fds;
    size_t cgroup_task_fd_count;
    int pdeath_signal;                ///< signal the child gets when the supervisor dies (0: none)
    /// Called on the launcher's thread right after the id maps are written, while the child
    /// waits (the supervisor attaches cgroup v1 groups here); nonzero fails the launch with
    /// WARDEN_STEP_HOOK. NULL: the child is released at once.
    int (*before_exec)(pid_t pid, void *context);
    void *before_exec_context;
    unsigned int flags;               ///< WARDEN_LAUNCH_* flags
};

/// The setup steps, in the order they run. A failure names one of these.
enum warden_step {
    WARDEN_STEP_NONE = 0,
    WARDEN_STEP_SPAWN,            ///< parent: pipes, stack, clone3
    WARDEN_STEP_ID_MAP,           ///< parent: uid_map, setgroups, gid_map
    WARDEN_STEP_HOOK,             ///< parent: the before_exec callback
    WARDEN_STEP_SIGNALS,          ///< child: default dispositions
    WARDEN_STEP_PDEATHSIG,
    WARDEN_STEP_CGROUP_ATTACH,    ///< child: moving itself into the v1 groups (index = tasks fd entry)
    WARDEN_STEP_SETSID,
    WARDEN_STEP_HOSTNAME,
    WARDEN_STEP_LOOPBACK,
    WARDEN_STEP_LISTEN,           ///< index = listen port entry
    WARDEN_STEP_BIND_SOURCE,      ///< open_tree of a bind source, fsmount of a proc (index = mount entry)
    WARDEN_STEP_ROOT_TMPFS,
    WARDEN_STEP_PIVOT_ROOT,
    WARDEN_STEP_SYNC,             ///< waiting for the parent's release
    WARDEN_STEP_CGROUP_NS,
    WARDEN_STEP_IDENTITY,         ///< setgroups, setresgid, setresuid
    WARDEN_STEP_MOUNT_TARGET,     ///< creating a mount target (index = mount entry)
    WARDEN_STEP_MOUNT,            ///< attaching a mount (index = mount entry)
    WARDEN_STEP_RLIMITS,          ///< index = rlimit entry
    WARDEN_STEP_CHDIR,
    WARDEN_STEP_FDS,              ///< index = fd entry
    WARDEN_STEP_CAPS,
    WARDEN_STEP_NO_NEW_PRIVS,
    WARDEN_STEP_UNBLOCK_SIGNALS,
    WARDEN_STEP_SECCOMP,
    WARDEN_STEP_SEND_LISTENER,
    WARDEN_STEP_EXECVE,
    WARDEN_STEP_COUNT
};

/// The name of a step ("execve", "mount", ...), for messages.
const char *warden_step_name(int step);

/// A launch in progress, between begin and finish. Opaque fields belong to the launcher.
struct warden_child {
    pid_t pid;                 ///< host pid of the sandboxed process
    int pidfd;                 ///< pidfd of the process (CLOEXEC); the caller owns it after finish
    int seccomp_listener;      ///< seccomp user-notification fd, or -1
    int listeners[16];         ///< TCP listeners, in listen_ports order; -1 when absent
    int failed_step;           ///< enum warden_step on failure, else 0
    int failed_errno;          ///< errno of the failed step
    int failed_index;          ///< mount/rlimit/fd/port entry of the failed step, or -1
    uint64_t step_ns[WARDEN_STEP_COUNT]; ///< CLOCK_MONOTONIC per step (TRACE_STEPS only)
    // Launcher-private state.
    void *stack;
    size_t stack_size;
    int sync_fd;               ///< release socket: one byte releases the child
    int report_fd;             ///< read end: step reports; EOF at exec
    int fdpass_fd;             ///< our end of the socketpair the child sends fds over
    int released;              ///< the release byte has been sent
};

/// Clones the child into new namespaces, writes its id maps, calls `before_exec` and releases the
/// child. On success returns 0 (finish must follow); on failure returns -1 with
/// `failed_step`/`failed_errno` set and nothing left behind.
int warden_launch_begin(const struct warden_launch *plan, struct warden_child *child);

/// Waits until the child has exec'd (0) or failed (-1, step/errno set; the child has been killed
/// and reaped and its pidfd closed), then collects the fds it sent.
int warden_launch_finish(const struct warden_launch *plan, struct warden_child *child);

/// Instead of finish, for a plan that passes no fds (no listeners, no seccomp listener): called
/// once the child has ended and been reaped (the caller owns its pidfd from begin on), it says
/// whether the child had exec'd (0) or failed a setup step (-1, step/errno set), and frees the
/// launch's resources. Until then the plan and the child's stack must stay untouched: the child
/// may still be running its checklist in this address space.
int warden_launch_settle(const struct warden_launch *plan, struct warden_child *child);

/// Kills and reaps a child between begin and finish, and frees its resources. Returns 1 when
/// the child had already failed a step (then `failed_*` says which), else 0.
int warden_launch_abort(struct warden_child *child);

/// Keeps `depth` (0 to 8) network namespaces with loopback up ready in the background; launches
/// without WARDEN_LAUNCH_SHARE_NET take one instead of creating theirs (netns_pool.c). 0 stops
/// refilling. Returns 0 or -errno (the thread could not start).
int warden_netns_pool_enable(int depth);

/// Prepares one network namespace in the background for the next launch, and no more (a one-shot
/// command starts it first thing, so that the namespace is made while it loads its policy).
/// Returns 0 or -errno.
int warden_netns_pool_prepare_one(void);

/// The pool's depth, with how many namespaces are ready and the errno that stopped it (0: none).
int warden_netns_pool_status(int *ready, int *failed_errno);

#endif
