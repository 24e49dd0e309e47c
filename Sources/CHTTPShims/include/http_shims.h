// Thin wrappers over the epoll, eventfd and accept4 calls HTTPServer's event loop uses: Swift's
// Glibc module does not export them (they need _GNU_SOURCE, which the header must not define: it
// would clash with Glibc's module), and struct epoll_event is packed on x86_64, so the wait
// unpacks events into two plain arrays. Implemented in shims.c.
#ifndef WARDEN_HTTP_SHIMS_H
#define WARDEN_HTTP_SHIMS_H
#include <stdint.h>

extern const uint32_t warden_epoll_in;
extern const uint32_t warden_epoll_out;
extern const uint32_t warden_epoll_err;
extern const uint32_t warden_epoll_hup;
extern const uint32_t warden_epoll_rdhup;

int warden_epoll_create(void);
int warden_epoll_add(int epfd, int fd, uint32_t events, uint64_t id);
int warden_epoll_modify(int epfd, int fd, uint32_t events, uint64_t id);
/// Waits like epoll_wait, writing each ready event's id and flags to `ids[i]` and `flags[i]`.
int warden_epoll_wait(int epfd, uint64_t *ids, uint32_t *flags, int capacity, int timeout);
/// A non-blocking, close-on-exec eventfd.
int warden_eventfd(void);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int warden_accept(int fd);
#endif
