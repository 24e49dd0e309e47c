// Calls one syscall N times inside the sandbox and prints the mean wall time per call (ns).
// Used by Benchmarks/trace-audit.sh to compare an audited syscall (user notification answered by
// the supervisor) with one the kernel's filter denies itself and one it allows.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: syscall-loop NR COUNT\n"); return 2; }
    long nr = atol(argv[1]), count = atol(argv[2]);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < count; i++) syscall(nr, 0, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / count;
    printf("%.0f\n", ns);
    return 0;
}
