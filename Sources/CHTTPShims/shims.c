#define _GNU_SOURCE
#include "http_shims.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

const uint32_t warden_epoll_in = EPOLLIN;
const uint32_t warden_epoll_out = EPOLLOUT;
const uint32_t warden_epoll_err = EPOLLERR;
const uint32_t warden_epoll_hup = EPOLLHUP;
const uint32_t warden_epoll_rdhup = EPOLLRDHUP;

int warden_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int control(int epfd, int op, int fd, uint32_t events, uint64_t id) {
    struct epoll_event event = { .events = events, .data = { .u64 = id } };
    return epoll_ctl(epfd, op, fd, &event);
}

int warden_epoll_add(int epfd, int fd, uint32_t events, uint64_t id) { return control(epfd, EPOLL_CTL_ADD, fd, events, id); }
int warden_epoll_modify(int epfd, int fd, uint32_t events, uint64_t id) { return control(epfd, EPOLL_CTL_MOD, fd, events, id); }

int warden_epoll_wait(int epfd, uint64_t *ids, uint32_t *flags, int capacity, int timeout) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, events, capacity, timeout);
    for (int i = 0; i < count; i++) { ids[i] = events[i].data.u64; flags[i] = events[i].events; }
    return count;
}

int warden_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int warden_accept(int fd) { return accept4(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC); }
