// The mount family and cgroups: remount /usr read-write, mount tmpfs/proc/sysfs/cgroupfs, unmount
// masked or sandbox paths, write into /usr, and move ourselves to another cgroup. Sandbox only:
// run on a host as root these would succeed for real.
#include "probe.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/// Writes our pid into a cgroup.procs file: success moves us out of the run's cgroup.
static void try_cgroup_move(const char *name, const char *procs) {
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        result(name, "blocked errno=%s", errname(errno));
        return;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", getpid());
    ssize_t w = write(fd, pid, (size_t)n);
    int err = errno;
    close(fd);
    if (w < 0) result(name, "blocked errno=%s", errname(err));
    else result(name, "ESCAPED moved into %s", procs);
}

int probe_mounts(int argc, char **argv) {
    (void)argc, (void)argv;
    mkdir("/tmp/m", 0700);
    expect_fail("remount-usr-rw", mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL), "remounted /usr rw");
    expect_fail("remount-root-rw", mount(NULL, "/", NULL, MS_REMOUNT, NULL), "remounted / rw");
    expect_fail("bind-root", mount("/", "/tmp/m", NULL, MS_BIND | MS_REC, NULL), "bind-mounted /");
    expect_fail("mount-tmpfs", mount("tmpfs", "/tmp/m", "tmpfs", 0, "size=1m"), "mounted tmpfs");
    expect_fail("mount-proc", mount("proc", "/tmp/m", "proc", 0, NULL), "mounted proc");
    expect_fail("mount-sysfs", mount("sysfs", "/tmp/m", "sysfs", 0, NULL), "mounted sysfs");
    expect_fail("mount-cgroup2", mount("cgroup2", "/tmp/m", "cgroup2", 0, NULL), "mounted cgroup2");
    expect_fail("mount-cgroup-v1", mount("cgroup", "/tmp/m", "cgroup", 0, "memory"), "mounted cgroup v1");
    expect_fail("umount-proc", umount2("/proc", MNT_DETACH), "unmounted /proc");
    expect_fail("umount-usr", umount2("/usr", MNT_DETACH), "unmounted /usr (under it: the bare root)");
    expect_fail("umount-root", umount2("/", MNT_DETACH), "unmounted /");
    expect_fail("write-usr", open("/usr/.warden-escape-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0644),
                "created /usr/.warden-escape-probe");
    try_cgroup_move("cgroup-move-root", "/sys/fs/cgroup/cgroup.procs");
    try_cgroup_move("cgroup-move-v1", "/sys/fs/cgroup/memory/cgroup.procs");
    return 0;
}
