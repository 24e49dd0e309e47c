// Outliving or outlasting the run: spin ignoring SIGTERM, double-fork into a daemon, flood stdout,
// and make a syscall through a foreign ABI (x32, i386) that the filter must kill.
#include "probe.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/// Spins forever in two processes with SIGTERM, SIGINT and SIGHUP ignored.
int probe_spin(int argc, char **argv) {
    (void)argc, (void)argv;
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    pid_t child = fork();
    result("spin", "info started child=%d", (int)child);
    for (volatile unsigned long i = 0;; i++) {
    }
}

/// Double-forks a session leader's child that ignores SIGTERM/SIGHUP and waits forever, then
/// returns at once: the run ends while the daemon is alive.
int probe_daemonize(int argc, char **argv) {
    (void)argc, (void)argv;
    pid_t child = fork();
    if (child == 0) {
        setsid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            close(0), close(1), close(2);
            for (;;) pause();
        }
        _exit(grandchild > 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    result("daemonize", "info daemon started=%d", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

/// argv: [GIB]. Writes GIB gibibytes of text to stdout as fast as the pipe takes it.
int probe_flood(int argc, char **argv) {
    long gib = argc > 0 ? atol(argv[0]) : 2;
    static char chunk[1 << 20];
    memset(chunk, 'F', sizeof chunk);
    for (size_t i = 127; i < sizeof chunk; i += 128) chunk[i] = '\n';
    signal(SIGPIPE, SIG_IGN);
    long long total = 0, goal = (long long)gib << 30;
    while (total < goal) {
        ssize_t n = write(1, chunk, sizeof chunk);
        if (n <= 0) break;
        total += n;
    }
    dprintf(2, "RESULT flood info bytes=%lld\n", total);
    return 0;
}

/// argv: x32|int80. A getpid through the x32 or i386 ABI: the filter must kill us (SIGSYS).
int probe_x32(int argc, char **argv) {
    long rc;
    if (argc > 0 && strcmp(argv[0], "int80") == 0) {
        // i386 getpid is 20.
        __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
    } else {
        rc = syscall(0x40000000L | SYS_getpid);
    }
    result("foreign-abi", "ESCAPED %s returned %ld", argc > 0 ? argv[0] : "x32", rc);
    return 0;
}
