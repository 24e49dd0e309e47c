// SPDX-License-Identifier: Apache-2.0
// SCM_RIGHTS for HostOS (the CMSG_* macros do not import into Swift). The child's own sender,
// which may not touch errno, is warden_send_fd in fds.c.
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host_shims.h"

#define WARDEN_MAX_PASSED_FDS 64

int warden_sendfds(int socket, const int *fds, int count, const void *bytes, size_t length) {
    if (count < 0 || count > WARDEN_MAX_PASSED_FDS || length == 0) { errno = EINVAL; return -1; }
    union { char buffer[CMSG_SPACE(sizeof(int) * WARDEN_MAX_PASSED_FDS)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = length};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
        msg.msg_control = control.buffer;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)count);
    }
    ssize_t n;
    do n = sendmsg(socket, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

ssize_t warden_recvfds(int socket, int *fds, int max, int *received, void *bytes, size_t capacity, int flags) {
    union { char buffer[CMSG_SPACE(sizeof(int) * WARDEN_MAX_PASSED_FDS)]; struct cmsghdr align; } control;
    struct iovec iov = {.iov_base = bytes, .iov_len = capacity};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                         .msg_controllen = sizeof(control.buffer)};
    *received = 0;
    ssize_t n;
    do n = recvmsg(socket, &msg, flags | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    int overflow = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof(int));
            if (*received < max) fds[(*received)++] = fd;
            else { close(fd); overflow = 1; }
        }
    }
    if (overflow || (msg.msg_flags & MSG_CTRUNC)) {
        for (int i = 0; i < *received; i++) close(fds[i]);
        *received = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}
