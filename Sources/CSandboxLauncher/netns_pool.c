// SPDX-License-Identifier: Apache-2.0
// A few network namespaces prepared ahead of time, loopback already up.
//
// Why: creating a network namespace is the single largest cost of a launch (about a third of its
// CPU time here: sysctl tables, the loopback device, IPv6 addrconf), and it does not depend on
// anything in the plan. A background thread creates them with unshare(CLONE_NEWNET) (a per-thread
// operation) while launches take them; the spawner thread enters one just for clone3, so the
// child starts in it without CLONE_NEWNET. Each namespace is used once, never reused.
//
// Side effect, and a desirable one: these namespaces belong to the supervisor's user namespace, so
// the agent holds no capability over its own network stack (it cannot add interfaces or routes).
// With an empty pool, or without CAP_SYS_ADMIN, launches fall back to CLONE_NEWNET.
//
// Where the thread runs: a new thread is often queued on its creator's CPU, where it waits out the
// creator's time slice (1-3 ms measured on a 2-vCPU VM) while the other CPU idles; the one-shot
// `warden exec` then reached its launch before the namespace was started. So the thread starts
// pinned to the CPUs other than its creator's and takes back the full set after its first
// namespace. A one-shot command's thread ends after its one namespace: woken at process exit it
// would cost a cross-CPU wake-up and leave the teardown of the whole address space to that core.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "netns_pool.h"

#define POOL_CAPACITY 8

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wanted;
    pthread_cond_t ready;   ///< signalled when a namespace is added or creating one failed
    int fds[POOL_CAPACITY];
    int count;
    int depth;
    int started;
    int once;          ///< warden_netns_pool_prepare_one: stop refilling after the first take
    int failed_errno;
    int creating;      ///< the background thread is inside create_namespace right now
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wanted = PTHREAD_COND_INITIALIZER, .ready = PTHREAD_COND_INITIALIZER};

/// How long a take waits for a namespace that is being created before the launch makes its own.
#define TAKE_WAIT_NS (20 * 1000 * 1000)

static int loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    strcpy(request.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFFLAGS, &request);
    if (r == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int error = r < 0 ? -errno : 0;
    close(fd);
    return error;
}

#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)   /* <linux/pidfd.h>, Linux 6.11 */
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL                    /* Linux 6.9 */
#endif

int warden_thread_netns_fd(void) {
    // Through a pidfd of this thread, not /proc/thread-self/ns/net: proc dentries under a thread
    // that exits with the process made its reaper's proc flush spin (shrink_dcache_parent waits
    // on the thread's own flush): ~20 % of a one-shot warden exec's CPU, measured with perf.
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)syscall(SYS_gettid), PIDFD_THREAD);
    if (pidfd >= 0) {
        int fd = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);   // CLOEXEC
        close(pidfd);
        if (fd >= 0) return fd;
    }
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);   // older kernels
    return fd < 0 ? -errno : fd;
}

/// A new network namespace with lo up, as an fd; this thread stays in it until the next one.
static int create_namespace(void) {
    if (unshare(CLONE_NEWNET) < 0) return -errno;
    int fd = warden_thread_netns_fd();
    if (fd < 0) return fd;
    int error = loopback_up();
    if (error) { close(fd); return error; }
    return fd;
}

/// The CPUs this thread may use, minus the one it runs on; false when that leaves none.
static int away_from_here(cpu_set_t *set) {
    if (sched_getaffinity(0, sizeof(*set), set) < 0) return 0;
    int here = sched_getcpu();
    if (here < 0 || !CPU_ISSET(here, set) || CPU_COUNT(set) < 2) return 0;
    CPU_CLR(here, set);
    return 1;
}

static cpu_set_t allowed_cpus;
static int restore_affinity;

static void *pool_loop(void *unused) {
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.count >= pool.depth) pthread_cond_wait(&pool.wanted, &pool.lock);
        pool.creating = 1;
        pthread_mutex_unlock(&pool.lock);
        int fd = create_namespace();
        pthread_mutex_lock(&pool.lock);
        pool.creating = 0;
        pthread_cond_broadcast(&pool.ready);
        if (restore_affinity) { restore_affinity = 0; sched_setaffinity(0, sizeof(allowed_cpus), &allowed_cpus); }
        if (fd < 0) {          // no privilege or no memory: stop, launches fall back to CLONE_NEWNET
            pool.failed_errno = -fd;
            pool.depth = 0;
            continue;
        }
        if (pool.count < POOL_CAPACITY) pool.fds[pool.count++] = fd;
        else close(fd);
        if (pool.once) {
            // A one-shot command's one namespace is made: end the thread now, on its own core,
            // rather than be woken there by the process's exit (and leave the process's memory
            // teardown to that wake-up).
            pool.started = 0;
            pool.depth = 0;
            break;
        }
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

static int enable(int depth, int once) {
    if (depth < 0) depth = 0;
    if (depth > POOL_CAPACITY) depth = POOL_CAPACITY;
    pthread_mutex_lock(&pool.lock);
    pool.once = once;
    int error = 0;
    if (!pool.started && depth > 0) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        cpu_set_t other;
        restore_affinity = sched_getaffinity(0, sizeof(allowed_cpus), &allowed_cpus) == 0;
        if (away_from_here(&other)) pthread_attr_setaffinity_np(&attr, sizeof(other), &other);
        error = pthread_create(&thread, &attr, pool_loop, NULL);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pool.started = error == 0;
    }
    if (!error) {
        pool.depth = depth;
        pool.failed_errno = 0;
        pthread_cond_signal(&pool.wanted);
    }
    pthread_mutex_unlock(&pool.lock);
    return -error;
}

int warden_netns_pool_enable(int depth) {
    return enable(depth, 0);
}

int warden_netns_pool_prepare_one(void) {
    return enable(1, 1);
}

int warden_netns_pool_take(void) {
    pthread_mutex_lock(&pool.lock);
    // A namespace being made (or about to be: the thread runs and the pool is short) is ready
    // sooner than a new one: wait for it, bounded, rather than have the child pay a whole
    // CLONE_NEWNET while that one is finished for nobody. A fast one-shot `warden exec` reaches
    // its launch about when the prepared namespace is done; and when the thread has not had a
    // core yet, our waiting gives it ours.
    if (pool.count == 0 && (pool.creating || (pool.started && pool.depth > 0))) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += TAKE_WAIT_NS;
        if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec += 1; deadline.tv_nsec -= 1000000000L; }
        while (pool.count == 0 && (pool.creating || (pool.started && pool.depth > 0))) {
            if (pthread_cond_timedwait(&pool.ready, &pool.lock, &deadline) == ETIMEDOUT) break;
        }
    }
    int fd = pool.count > 0 ? pool.fds[--pool.count] : -1;
    if (pool.once) pool.depth = 0;   // one launch was prepared for: nothing more to create
    if (pool.started) pthread_cond_signal(&pool.wanted);
    pthread_mutex_unlock(&pool.lock);
    return fd;
}

int warden_netns_pool_status(int *ready, int *failed_errno) {
    pthread_mutex_lock(&pool.lock);
    *ready = pool.count;
    *failed_errno = pool.failed_errno;
    int depth = pool.depth;
    pthread_mutex_unlock(&pool.lock);
    return depth;
}
