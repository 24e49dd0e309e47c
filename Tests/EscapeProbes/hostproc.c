// Processes outside the sandbox: find the host's `sleep MARKER` in /proc, and signal, ptrace,
// pidfd_open and process_vm_readv its pid. argv: PID MARKER [all]. With "all" (sandbox only) it
// also sends SIGCONT to every process it may signal (kill -1), which is harmless on a host.
#include "probe.h"
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

/// Returns the pid of a process whose command line contains `marker`, or 0.
static int find_marker(const char *marker) {
    DIR *proc = opendir("/proc");
    if (!proc) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(proc));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], cmd[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f) continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (cmd[i] == 0) cmd[i] = ' ';
        cmd[n] = 0;
        if (strstr(cmd, marker) && atoi(e->d_name) != getpid()) found = atoi(e->d_name);
    }
    closedir(proc);
    return found;
}

/// The number of processes this probe can see in /proc.
static int count_processes(void) {
    DIR *proc = opendir("/proc");
    int count = 0;
    for (struct dirent *e; proc && (e = readdir(proc));) count += e->d_name[0] >= '1' && e->d_name[0] <= '9';
    if (proc) closedir(proc);
    return count;
}

int probe_hostproc(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "hostproc: PID MARKER [all]\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[0]);
    int seen = find_marker(argv[1]);
    if (seen) result("proc-shows-host", "ESCAPED host process visible as pid %d", seen);
    else result("proc-shows-host", "blocked errno=ENOENT");
    result("visible-processes", "info %d", count_processes());
    result("parent", "info ppid=%d pid=%d", getppid(), getpid());
    expect_fail("kill-probe", kill(pid, 0), "may signal the host pid");
    long rc = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
    if (rc == 0) {
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    }
    expect_fail("ptrace-attach", rc, "attached to the host pid");
    long pidfd = syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) close((int)pidfd);
    expect_fail("pidfd-open", pidfd, "pidfd of the host pid");
    char buf[8];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
    expect_fail("process-vm-readv", process_vm_readv(pid, &local, 1, &remote, 1, 0), "read host process memory");
    expect_fail("kill-sigkill", kill(pid, SIGKILL), "sent SIGKILL to the host pid");
    if (argc > 2 && strcmp(argv[2], "all") == 0) expect_fail("kill-all", kill(-1, SIGCONT), "signalled processes");
    return 0;
}
