// Resource exhaustion: fill /tmp, write past the file-size limit, fork bomb, memory bomb. Each
// stops at a cap, reported as ESCAPED, so an unenforced limit cannot hurt the host.
#include "probe.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MIB (1024L * 1024L)

/// Writes 1 MiB chunks to `fd` until an error or `cap` bytes; returns the bytes written.
static long fill(int fd, long cap, int *err) {
    static char chunk[MIB];
    memset(chunk, 'w', sizeof chunk);
    long total = 0;
    *err = 0;
    while (total < cap) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) {
            *err = errno;
            break;
        }
        total += n;
    }
    return total;
}

/// argv: [CAP_MIB]. Files of /tmp until the tmpfs is full; a file-size limit moves us to the next.
int probe_fill_tmp(int argc, char **argv) {
    long cap = (argc > 0 ? atol(argv[0]) : 4096) * MIB, total = 0;
    signal(SIGXFSZ, SIG_IGN);
    int err = 0, files = 0;
    while (total < cap) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/fill-%d", files++);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            err = errno;
            break;
        }
        total += fill(fd, cap - total, &err);
        close(fd);
        if (err != EFBIG) break;
    }
    if (total >= cap) result("fill-tmp", "ESCAPED wrote %ld MiB to /tmp", total / MIB);
    else result("fill-tmp", "blocked errno=%s bytes=%ld", errname(err), total);
    for (int i = 0; i < files; i++) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/fill-%d", i);
        unlink(path);
    }
    return 0;
}

/// argv: MODE(ignore|signal) [CAP_MIB]. Writes workspace/big past RLIMIT_FSIZE: with SIGXFSZ
/// ignored the write fails with EFBIG; with the default action the kernel kills us with SIGXFSZ.
int probe_fsize(int argc, char **argv) {
    int ignore = argc > 0 && strcmp(argv[0], "ignore") == 0;
    long cap = (argc > 1 ? atol(argv[1]) : 1024) * MIB;
    if (ignore) signal(SIGXFSZ, SIG_IGN);
    int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        result("fsize", "info open errno=%s", errname(errno));
        return 1;
    }
    int err;
    long total = fill(fd, cap, &err);
    close(fd);
    unlink("big");
    if (total >= cap) result("fsize", "ESCAPED wrote %ld MiB to one file", total / MIB);
    else result("fsize", "blocked errno=%s bytes=%ld", errname(err), total);
    return 0;
}

/// argv: [CAP]. Forks children that wait forever until fork fails (the pids limit).
int probe_forkbomb(int argc, char **argv) {
    long cap = argc > 0 ? atol(argv[0]) : 20000, count = 0;
    while (count < cap) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) pause();
        }
        if (pid < 0) {
            result("forkbomb", "blocked errno=%s children=%ld", errname(errno), count);
            return 0;
        }
        count++;
    }
    result("forkbomb", "ESCAPED forked %ld children", count);
    return 0;
}

/// argv: [CAP_MIB]. Touches 32 MiB chunks until the cgroup's OOM killer ends us.
int probe_membomb(int argc, char **argv) {
    long cap = (argc > 0 ? atol(argv[0]) : 4096) * MIB, total = 0;
    while (total < cap) {
        void *p = mmap(NULL, 32 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            result("membomb", "blocked errno=%s bytes=%ld", errname(errno), total);
            return 0;
        }
        memset(p, 0x5a, 32 * MIB);
        total += 32 * MIB;
    }
    result("membomb", "ESCAPED touched %ld MiB", total / MIB);
    return 0;
}
