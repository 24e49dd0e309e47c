// Namespaces, keyrings, kernel attack surface and host-wide administration calls. Sandbox only;
// every call uses an argument that is harmless even where it would succeed (reboot CAD_OFF,
// settimeofday with no values, acct(NULL) turns accounting off, swapon of a missing file).
#include "probe.h"
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/// clone/clone3 with namespace flags; a child that appears exits at once.
static void try_clones(void) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    expect_fail("clone-newuser", pid, "cloned into a new user namespace");
    pid = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    expect_fail("clone-newns-newpid", pid, "cloned into new mount and pid namespaces");
    struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    expect_fail("clone3-newuser", pid, "clone3 into a new user namespace");
}

/// Namespace entry and creation.
static void try_namespaces(void) {
    expect_fail("unshare-user", unshare(CLONE_NEWUSER), "new user namespace");
    expect_fail("unshare-mount", unshare(CLONE_NEWNS), "new mount namespace");
    expect_fail("unshare-net", unshare(CLONE_NEWNET), "new network namespace");
    expect_fail("unshare-cgroup", unshare(CLONE_NEWCGROUP), "new cgroup namespace");
    int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd < 0) result("setns", "info open errno=%s", errname(errno));
    else expect_fail("setns", setns(fd, 0), "setns into a mount namespace");
    if (fd >= 0) close(fd);
    try_clones();
    expect_fail("fsopen", syscall(SYS_fsopen, "tmpfs", 0), "fsopen tmpfs");
    expect_fail("open-tree-clone", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */),
                "cloned the root mount tree");
    expect_fail("chroot", chroot("/tmp"), "chroot");
}

/// Keyrings (not namespaced) and in-kernel programs.
static void try_kernel_surface(void) {
    expect_fail("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), "keyctl");
    expect_fail("add-key", syscall(SYS_add_key, "user", "warden-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING), "add_key");
    expect_fail("request-key", syscall(SYS_request_key, "user", "warden-probe", NULL, 0), "request_key");
    union bpf_attr attr = {0};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4, attr.value_size = 4, attr.max_entries = 1;
    expect_fail("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), "created a BPF map");
    struct perf_event_attr pe = {.type = PERF_TYPE_SOFTWARE, .size = sizeof pe, .config = PERF_COUNT_SW_CPU_CLOCK};
    expect_fail("perf-event-open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0), "perf_event_open");
    expect_fail("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC), "userfaultfd");
    struct io_uring_params params = {0};
    expect_fail("io-uring-setup", syscall(SYS_io_uring_setup, 1, &params), "io_uring_setup");
}

/// Host-wide administration.
static void try_admin(void) {
    expect_fail("init-module", syscall(SYS_init_module, NULL, 0, ""), "init_module");
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    expect_fail("finit-module", syscall(SYS_finit_module, self, "", 0), "finit_module");
    if (self >= 0) close(self);
    expect_fail("kexec-load", syscall(SYS_kexec_load, 0, 0, NULL, KEXEC_ARCH_DEFAULT), "kexec_load");
    expect_fail("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL),
                "reboot(CAD_OFF)");
    expect_fail("settimeofday", syscall(SYS_settimeofday, NULL, NULL), "settimeofday");
    expect_fail("swapon", syscall(SYS_swapon, "/nonexistent-swap", 0), "swapon");
    expect_fail("acct", syscall(SYS_acct, NULL), "acct");
    long old = syscall(SYS_personality, 0xffffffff);
    long rc = syscall(SYS_personality, READ_IMPLIES_EXEC);
    if (rc >= 0) syscall(SYS_personality, old);
    expect_fail("personality-rx", rc, "personality(READ_IMPLIES_EXEC)");
}

int probe_syscalls(int argc, char **argv) {
    (void)argc, (void)argv;
    try_namespaces();
    try_kernel_surface();
    try_admin();
    return 0;
}
