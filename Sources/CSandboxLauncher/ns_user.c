// SPDX-License-Identifier: Apache-2.0
// User namespace: the parent maps the agent's one uid and gid to unprivileged host ids; the child
// then switches to them.
//
// Why the switch matters even inside a user namespace: clone(CLONE_NEWUSER) leaves the child's
// credentials at the supervisor's host uid (root, here). An unmapped root still *owns* root's files
// for permission checks, so the child must setresuid/setresgid to the mapped ids, and drop the
// supplementary groups it inherited, before it may run anything.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"

/// Writes `text` to /proc/<pid>/<file> in one write(2), as the kernel requires for id maps.
static int write_proc_file(pid_t pid, const char *file, const char *text, int length) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n;
    do n = write(fd, text, (size_t)length); while (n < 0 && errno == EINTR);
    int error = n < 0 ? -errno : (n == length ? 0 : -EIO);
    close(fd);
    return error;
}

/// Parent side, while the child waits: uid_map, setgroups, gid_map (this order: the kernel
/// refuses "deny" after gid_map is written).
int warden_parent_write_id_maps(pid_t pid, const struct warden_launch *plan) {
    char map[64];
    int n = snprintf(map, sizeof(map), "%u %u 1\n", plan->inside_uid, plan->host_uid);
    int error = write_proc_file(pid, "uid_map", map, n);
    if (error) return error;
    // An unprivileged supervisor may only write gid_map after denying setgroups. A privileged one
    // keeps it allowed so the child can drop the supplementary groups it inherited; the agent
    // cannot use setgroups itself afterwards, having no capabilities.
    if (geteuid() != 0) {
        error = write_proc_file(pid, "setgroups", "deny", 4);
        if (error) return error;
    }
    n = snprintf(map, sizeof(map), "%u %u 1\n", plan->inside_gid, plan->host_gid);
    return write_proc_file(pid, "gid_map", map, n);
}

/// Child side: no supplementary groups, then the mapped gid and uid (gid first: after the uid
/// change the child could still change its gid, but this keeps the order runc uses).
int warden_set_identity(const struct warden_launch *plan) {
    long r = SYS2(SYS_setgroups, 0, NULL);
    if (r < 0 && r != -EPERM) return (int)r;   // EPERM: setgroups denied (unprivileged supervisor)
    r = SYS3(SYS_setresgid, plan->inside_gid, plan->inside_gid, plan->inside_gid);
    if (r < 0) return (int)r;
    return (int)SYS3(SYS_setresuid, plan->inside_uid, plan->inside_uid, plan->inside_uid);
}
