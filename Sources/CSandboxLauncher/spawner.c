// SPDX-License-Identifier: Apache-2.0
// clone3 on a dedicated, long-lived thread.
//
// Why a thread: PR_SET_PDEATHSIG fires when the *thread* that created the child exits, not the
// process (prctl(2)); the Swift supervisor launches from pool threads that come and go. So every
// clone happens on one thread that lives as long as the process, with all signals blocked, which
// the child inherits until it has reset its handlers (nothing of the supervisor's may run on the
// child's stack).
//
// Why assembly: clone3 with CLONE_VM starts the child on a new stack with no frame to return to;
// glibc has no public clone3 wrapper (2.36), and CLONE_INTO_CGROUP needs clone3.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "child.h"
#include "netns_pool.h"
#include "spawner.h"

/// long warden_clone3_trampoline(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
/// Parent: returns the pid or -errno. Child: calls fn(arg) on the new stack, then exits with its result.
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl warden_clone3_trampoline\n"
        ".hidden warden_clone3_trampoline\n"
        ".type warden_clone3_trampoline,@function\n"
        "warden_clone3_trampoline:\n"
        "    mov %rdx, %r9\n"       // fn: r8/r9 survive the syscall and are copied to the child
        "    mov %rcx, %r8\n"       // arg
        "    mov $435, %eax\n"      // SYS_clone3; rdi = args, rsi = size already
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %ebp, %ebp\n"      // child: outermost frame
        "    mov %r8, %rdi\n"
        "    call *%r9\n"
        "    mov %rax, %rdi\n"
        "    mov $231, %eax\n"      // SYS_exit_group
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n"
        ".size warden_clone3_trampoline, .-warden_clone3_trampoline\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl warden_clone3_trampoline\n"
        ".hidden warden_clone3_trampoline\n"
        ".type warden_clone3_trampoline,%function\n"
        "warden_clone3_trampoline:\n"
        "    mov x10, x2\n"
        "    mov x11, x3\n"
        "    mov x8, #435\n"
        "    svc #0\n"
        "    cbnz x0, 1f\n"
        "    mov x29, xzr\n"
        "    mov x0, x11\n"
        "    blr x10\n"
        "    mov x8, #94\n"         // SYS_exit_group
        "    svc #0\n"
        "    brk #0\n"
        "1:  ret\n"
        ".size warden_clone3_trampoline, .-warden_clone3_trampoline\n");
#endif

long warden_clone3_trampoline(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);

/// The one outstanding request; callers take `callers` to own it.
static struct {
    pthread_mutex_t callers;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    pthread_cond_t done;
    int pending;
    struct clone_args *args;
    void *arg;
    int netns_fd;
    int (*after_clone)(long pid, void *arg);
    void *after_arg;
    int after_result;
    long result;
    pthread_t thread;
    int start_error;
    int host_netns_fd;
} spawner = {
    .callers = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .ready = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;

/// clone3, from inside network namespace `netns_fd` when one is given (the child inherits it),
/// returning to the host's namespace afterwards.
static long clone_in_namespace(struct clone_args *args, void *arg, int netns_fd) {
    if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) return -errno;
    long result = warden_clone3_trampoline(args, sizeof(*args), warden_child_main, arg);
    if (netns_fd >= 0 && setns(spawner.host_netns_fd, CLONE_NEWNET) < 0) {
        // Stuck in an agent's namespace: never clone again from here.
        spawner.start_error = errno;
    }
    return result;
}

static void *spawner_loop(void *unused) {
    (void)unused;
    pthread_mutex_lock(&spawner.lock);
    for (;;) {
        while (!spawner.pending) pthread_cond_wait(&spawner.ready, &spawner.lock);
        spawner.result = clone_in_namespace(spawner.args, spawner.arg, spawner.netns_fd);
        // Right here, not after waking the caller: the child is waiting for what this does.
        spawner.after_result = spawner.result > 0 && spawner.after_clone
            ? spawner.after_clone(spawner.result, spawner.after_arg) : 0;
        spawner.pending = 0;
        pthread_cond_signal(&spawner.done);
    }
    return NULL;
}

static void spawner_start(void) {
    spawner.host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    sigset_t all, old;
    sigfillset(&all);
    // The new thread inherits this mask: blocked for good, and so are its children until they reset.
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    spawner.start_error = pthread_create(&spawner.thread, &attr, spawner_loop, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

long warden_spawn_here(struct clone_args *args, void *child_ctx, int netns_fd,
                       int (*after_clone)(long pid, void *arg), void *after_arg, int *after_result) {
    int home = -1;
    if (netns_fd >= 0) {   // enter the prepared namespace just for clone3, as the spawner does
        home = warden_thread_netns_fd();
        if (home < 0) return home;
        if (setns(netns_fd, CLONE_NEWNET) < 0) { int error = errno; close(home); return -error; }
    }
    sigset_t all, old;
    sigfillset(&all);
    // The child starts with everything blocked, as from the spawner thread, until it has reset
    // its dispositions: no handler of the supervisor's may run on the child's stack.
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long result = warden_clone3_trampoline(args, sizeof(*args), warden_child_main, child_ctx);
    int back = 0;
    if (home >= 0) {
        if (setns(home, CLONE_NEWNET) < 0) back = -errno;   // then the launch is abandoned
        close(home);
    }
    *after_result = result <= 0 ? 0 : back ? back : after_clone ? after_clone(result, after_arg) : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return result;
}

long warden_spawn(struct clone_args *args, void *child_ctx, int netns_fd,
                  int (*after_clone)(long pid, void *arg), void *after_arg, int *after_result) {
    pthread_once(&spawner_once, spawner_start);
    if (spawner.start_error) return -spawner.start_error;
    if (netns_fd >= 0 && spawner.host_netns_fd < 0) return -EBADF;
    pthread_mutex_lock(&spawner.callers);
    pthread_mutex_lock(&spawner.lock);
    spawner.args = args;
    spawner.arg = child_ctx;
    spawner.netns_fd = netns_fd;
    spawner.after_clone = after_clone;
    spawner.after_arg = after_arg;
    spawner.pending = 1;
    pthread_cond_signal(&spawner.ready);
    while (spawner.pending) pthread_cond_wait(&spawner.done, &spawner.lock);
    long result = spawner.result;
    *after_result = spawner.after_result;
    pthread_mutex_unlock(&spawner.lock);
    pthread_mutex_unlock(&spawner.callers);
    return result;
}
