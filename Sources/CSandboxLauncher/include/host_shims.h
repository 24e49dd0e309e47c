// SPDX-License-Identifier: Apache-2.0
// C helpers for HostOS. They exist because Swift cannot call C-variadic functions (fcntl, ioctl,
// open with a mode, prctl, syscall) or function-like macros (CMSG_*), and glibc 2.36 has no
// wrappers for pidfd_open / pidfd_send_signal.
#ifndef WARDEN_HOST_SHIMS_H
#define WARDEN_HOST_SHIMS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// O_PATH, which Swift's Glibc module does not export (it needs _GNU_SOURCE).
#define WARDEN_O_PATH 010000000

static inline int warden_open(const char *path, int flags, unsigned int mode) { return open(path, flags, (mode_t)mode); }
static inline int warden_openat(int dirfd, const char *path, int flags, unsigned int mode) { return openat(dirfd, path, flags, (mode_t)mode); }
static inline int warden_fcntl_int(int fd, int command, int argument) { return fcntl(fd, command, argument); }
static inline int warden_fcntl(int fd, int command) { return fcntl(fd, command); }
static inline int warden_ioctl_ptr(int fd, unsigned long request, void *argument) { return ioctl(fd, request, argument); }
static inline int warden_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) { return prctl(option, a, b, c, d); }
static inline int warden_pipe2(int fds[2], int flags) { return (int)syscall(SYS_pipe2, fds, flags); }
static inline int warden_dup3(int fd, int target, int flags) { return (int)syscall(SYS_dup3, fd, target, flags); }
static inline int warden_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
static inline int warden_pidfd_send_signal(int pidfd, int sig, unsigned int flags) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, flags); }
static inline int warden_memfd_create(const char *name, unsigned int flags) { return (int)syscall(SYS_memfd_create, name, flags); }

/// statfs(2)'s f_type for `path` (Swift's Glibc module does not export sys/statfs.h), or -errno.
static inline long long warden_fs_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -(long long)errno;
    return (long long)(unsigned long)info.f_type;
}

/// openat2(2) (syscall 437; glibc 2.36 has no wrapper): `resolve` takes RESOLVE_* flags, such as
/// RESOLVE_BENEATH, which confine the whole path walk, symlinks and `..` included, beneath `dirfd`.
static inline int warden_openat2(int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
                                 unsigned long long resolve) {
    struct { unsigned long long flags, mode, resolve; } how = { flags, mode, resolve };
    return (int)syscall(437, dirfd, path, &how, sizeof(how));
}

/// waitid(P_PIDFD, pidfd); fills how the process ended: code (CLD_*) and status (exit code or signal).
static inline int warden_waitid_pidfd(int pidfd, int options, int *code, int *status, pid_t *pid) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int r = waitid((idtype_t)3 /* P_PIDFD */, (id_t)pidfd, &info, options);
    if (r == 0) { *code = info.si_code; *status = info.si_status; *pid = info.si_pid; }
    return r;
}

/// The symbolic name of an errno value ("ENOENT"), or "E?".
const char *warden_errno_name(int error);

/// Sends `count` fds and `length` bytes (at least one) over a unix socket with SCM_RIGHTS.
int warden_sendfds(int socket, const int *fds, int count, const void *bytes, size_t length);

/// Receives up to `max` fds (CLOEXEC) and up to `capacity` bytes; returns the byte count and sets *received.
/// A message with more fds than `max` fails with EMSGSIZE and closes what arrived.
ssize_t warden_recvfds(int socket, int *fds, int max, int *received, void *bytes, size_t capacity, int flags);

#endif
