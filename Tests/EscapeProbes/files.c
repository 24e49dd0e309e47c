// Host files: secrets by path, through /proc/1/root, through `..`, through symlinks planted in the
// workspace by the host and from inside, hard links out of the workspace, and host home
// directories. argv: SECRET (absolute host path, readable only by root) VICTIM (absolute host
// path the probe tries to overwrite through the planted link `link-victim`).
#include "probe.h"
#include <dirent.h>
#include <fcntl.h>

/// Opens `path` for reading; success means a host file's bytes are readable (ESCAPED).
static void try_read(const char *name, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        result(name, "blocked errno=%s", errname(errno));
        return;
    }
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] < 0x20 || buf[i] > 0x7e) buf[i] = '.';
    result(name, "ESCAPED read %zd bytes of %s: %s", n, path, n > 0 ? buf : "");
}

/// Lists a host home directory: any entry is a host leak; an absent or empty one is contained.
static void try_list(const char *name, const char *path) {
    DIR *dir = opendir(path);
    if (!dir) {
        result(name, "blocked errno=%s", errname(errno));
        return;
    }
    int entries = 0;
    char first[256] = "";
    for (struct dirent *e; (e = readdir(dir));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (entries++ == 0) snprintf(first, sizeof first, "%s", e->d_name);
    }
    closedir(dir);
    if (entries == 0) result(name, "blocked empty");
    else result(name, "ESCAPED %s lists %d entries, first %s", path, entries, first);
}

int probe_files(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "files: SECRET VICTIM\n");
        return 2;
    }
    const char *secret = argv[0], *victim = argv[1];
    char path[4096];
    try_read("etc-shadow", "/etc/shadow");
    try_list("home-root", "/root");
    try_list("home-users", "/home");
    try_read("secret-by-path", secret);
    snprintf(path, sizeof path, "/proc/1/root%s", secret);
    try_read("proc1-root-secret", path);
    try_read("proc1-root-shadow", "/proc/1/root/etc/shadow");
    snprintf(path, sizeof path, "../../../../../../../..%s", secret);
    try_read("dotdot-secret", path);
    try_read("host-planted-link", "link-secret");
    try_read("host-planted-shadow-link", "link-shadow");

    // Write through a link the host planted: success would overwrite a host file.
    int fd = open("link-victim", O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        result("host-planted-link-write", "blocked errno=%s", errname(errno));
    } else {
        ssize_t w = write(fd, "PWNED\n", 6);
        close(fd);
        result("host-planted-link-write", "ESCAPED wrote %zd bytes to %s", w, victim);
    }

    // A link planted from inside (left behind for the host to stumble over), then followed.
    if (symlink(secret, "inner-link") < 0) result("inner-link-create", "info errno=%s", errname(errno));
    try_read("inner-link", "inner-link");

    // A hard link from a host-owned file outside the workspace into it.
    expect_fail("hardlink-out", link("/usr/bin/env", "hardlink-env"), "linked /usr/bin/env into the workspace");
    return 0;
}
