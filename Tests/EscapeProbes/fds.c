// Inherited descriptors (CVE-2024-21626 class): list /proc/self/fd, then try every fd from 3 to
// 64: read a file through it, or fchdir into a directory and walk `..` out of the sandbox.
#include "probe.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/// Lists our open descriptors (without the listing's own) as "0,1,2".
static void list_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        result("fd-list", "info errno=%s", errname(errno));
        return;
    }
    char list[512] = "";
    size_t used = 0;
    int own = dirfd(dir), fds[256], count = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int fd = atoi(e->d_name);
        if (fd != own && count < 256) fds[count++] = fd;
    }
    closedir(dir);
    // Sort so the test can compare the list as a string.
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    for (int i = 0; i < count && used < sizeof list - 16; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, i ? ",%d" : "%d", fds[i]);
    result("fd-list", "info %s", list);
}

/// Uses one descriptor the way an attacker would; returns 1 if it was open.
static int use_fd(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return 0;
    char link[64], target[512] = "?";
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 1] = 0;
    if (S_ISDIR(st.st_mode)) {
        int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        result("inherited-fds", "ESCAPED fd %d is directory %s (openat ..: %s)", fd, target,
               up >= 0 ? "ok" : errname(errno));
        if (up >= 0) close(up);
    } else {
        char buf[48] = {0};
        ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] < 0x20 || buf[i] > 0x7e) buf[i] = '.';
        result("inherited-fds", "ESCAPED fd %d is %s, read %zd bytes: %s", fd, target, r, r > 0 ? buf : "");
    }
    return 1;
}

int probe_fds(int argc, char **argv) {
    (void)argc, (void)argv;
    list_fds();
    int open_count = 0;
    for (int fd = 3; fd <= 64; fd++) open_count += use_fd(fd);
    if (open_count == 0) result("inherited-fds", "blocked errno=EBADF");
    return 0;
}
