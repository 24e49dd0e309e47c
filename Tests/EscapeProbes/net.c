// Sockets and network reach: raw, packet, AF_ALG and AF_VSOCK sockets (created and closed, never
// used), a TCP connect to the host's loopback service on PORT, and with "outside" a connect to
// TEST-NET-1 (192.0.2.1, never routed on the internet). argv: PORT [outside].
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static void try_socket(const char *name, int domain, int type, int protocol) {
    int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd >= 0) close(fd);
    expect_fail(name, fd, "socket created");
}

/// Non-blocking connect with a 2 s bound; reports the errno the network stack gave.
static void try_connect(const char *name, const char *address, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        result(name, "blocked socket errno=%s", errname(errno));
        return;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, address, &sa.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int err = rc < 0 ? errno : 0;
    if (rc < 0 && err == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 2000) == 1) {
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
    }
    close(fd);
    if (err == 0) result(name, "ESCAPED connected to %s:%d", address, port);
    else if (err == EINPROGRESS) result(name, "ESCAPED packets left for %s:%d (no answer in 2 s)", address, port);
    else result(name, "blocked errno=%s", errname(err));
}

/// The interface names the sandbox can see, from /proc/net/dev ("lo" only when contained).
static void list_interfaces(void) {
    FILE *f = fopen("/proc/net/dev", "re");
    if (!f) {
        result("interfaces", "info errno=%s", errname(errno));
        return;
    }
    char line[512], names[512] = "";
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *name = line + strspn(line, " ");
        used += (size_t)snprintf(names + used, sizeof names - used, used ? ",%s" : "%s", name);
        if (used >= sizeof names) break;
    }
    fclose(f);
    result("interfaces", "info %s", names);
}

int probe_net(int argc, char **argv) {
    if (argc < 1) {
        fprintf(stderr, "net: PORT [outside]\n");
        return 2;
    }
    list_interfaces();
    try_socket("raw-inet", AF_INET, SOCK_RAW, IPPROTO_ICMP);
    try_socket("raw-inet6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    try_socket("packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    try_socket("af-alg", AF_ALG, SOCK_SEQPACKET, 0);
    try_socket("af-vsock", AF_VSOCK, SOCK_STREAM, 0);
    try_connect("connect-host-loopback", "127.0.0.1", atoi(argv[0]));
    if (argc > 1 && strcmp(argv[1], "outside") == 0) try_connect("connect-outside", "192.0.2.1", 80);
    return 0;
}
