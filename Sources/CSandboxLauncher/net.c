// SPDX-License-Identifier: Apache-2.0
// Network namespace: the new netns has only a loopback interface, and it starts down. The child
// brings it up, then creates the broker's TCP listeners on 127.0.0.1 inside it and sends them to
// the supervisor (DESIGN.md, decision 4): the agent reaches the broker and nothing else.
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "child.h"
#include "sys.h"

int warden_loopback_up(void) {
    long fd = SYS3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return (int)fd;
    struct ifreq request;
    __builtin_memset(&request, 0, sizeof(request));
    request.ifr_name[0] = 'l';
    request.ifr_name[1] = 'o';
    long r = SYS3(SYS_ioctl, fd, SIOCGIFFLAGS, &request);
    if (!r) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = SYS3(SYS_ioctl, fd, SIOCSIFFLAGS, &request);
    }
    SYS1(SYS_close, fd);
    return (int)r;
}

static long listen_on_loopback(uint16_t port) {
    long fd = SYS3(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fd;
    struct sockaddr_in address;
    __builtin_memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long r = SYS3(SYS_bind, fd, &address, sizeof(address));
    if (!r) r = SYS2(SYS_listen, fd, 128);
    if (r < 0) { SYS1(SYS_close, fd); return r; }
    return fd;
}

int warden_open_listeners(struct warden_child_ctx *ctx) {
    const struct warden_launch *plan = ctx->plan;
    for (size_t i = 0; i < plan->listen_port_count; i++) {
        ctx->index = (int)i;
        long fd = listen_on_loopback(plan->listen_ports[i]);
        if (fd < 0) return (int)fd;
        int r = warden_send_fd(ctx->fdpass_fd, (int)fd, (uint32_t)i);
        SYS1(SYS_close, fd);
        if (r < 0) return r;
    }
    ctx->index = -1;
    return 0;
}
