// Shared reporting helpers for the escape probes (see README.md).
#ifndef WARDEN_PROBE_H
#define WARDEN_PROBE_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// Prints one RESULT line with a single write so it survives a kill right after.
static inline void result(const char *name, const char *fmt, ...) {
    char line[1024];
    int n = snprintf(line, sizeof line, "RESULT %s ", name);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 2, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(1, line, (size_t)n);
    (void)w;
}

/// The symbolic errno name (EPERM), never a number alone.
static inline const char *errname(int err) {
    const char *s = strerrorname_np(err);
    return s ? s : "E?";
}

/// Reports `rc` of an attack: negative means blocked with the current errno, else ESCAPED.
static inline void expect_fail(const char *name, long rc, const char *what) {
    if (rc < 0) result(name, "blocked errno=%s", errname(errno));
    else result(name, "ESCAPED %s rc=%ld", what, rc);
}

// The groups, one per source file.
int probe_files(int argc, char **argv);
int probe_mounts(int argc, char **argv);
int probe_procfs(int argc, char **argv);
int probe_devices(int argc, char **argv);
int probe_handle(int argc, char **argv);
int probe_fds(int argc, char **argv);
int probe_identity(int argc, char **argv);
int probe_tty(int argc, char **argv);
int probe_syscalls(int argc, char **argv);
int probe_net(int argc, char **argv);
int probe_hostproc(int argc, char **argv);
int probe_fill_tmp(int argc, char **argv);
int probe_fsize(int argc, char **argv);
int probe_forkbomb(int argc, char **argv);
int probe_membomb(int argc, char **argv);
int probe_spin(int argc, char **argv);
int probe_daemonize(int argc, char **argv);
int probe_flood(int argc, char **argv);
int probe_x32(int argc, char **argv);

#endif
