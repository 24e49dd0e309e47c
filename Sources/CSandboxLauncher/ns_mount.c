// SPDX-License-Identifier: Apache-2.0
// Mount namespace: a tmpfs root built from the plan's mount list, then pivot_root into it.
//
// Order, and why:
// 1. Every bind source (and the host's device nodes for /dev) is cloned first with
//    open_tree(OPEN_TREE_CLONE) into a detached tree, and given its attributes (nosuid, nodev,
//    read-only, private propagation) with mount_setattr while still detached. Nothing of the host
//    is looked up by path after this, so the root tmpfs may cover any host directory.
// 2. The child switches to the agent's ids (launch.c): a tmpfs of the new user namespace cannot
//    hold files of an unmapped owner (EOVERFLOW), and the agent should own what it sees created.
// 3. The root tmpfs is mounted over /tmp of this (private, new) mount namespace; the host never
//    sees it. Targets are created below it one component at a time with O_NOFOLLOW, so a symlink
//    planted by an earlier bind can never redirect a mount onto the host.
// 4. pivot_root(".", ".") and a lazy unmount of the old root, as runc does: no put_old directory.
// Minimum kernel: 5.12 (mount_setattr).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/stat.h>

#include "child.h"
#include "sys.h"

#ifndef MNT_DETACH
#define MNT_DETACH 2   /* from <sys/mount.h>, which conflicts with <linux/mount.h> in glibc 2.36 */
#endif

#define ROOT_ATTACH "/tmp"

static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom"};

/// Appends `text` to `buf` at *at (bounded by `cap`); returns -ENAMETOOLONG when it does not fit.
static int append(char *buf, size_t cap, size_t *at, const char *text) {
    size_t n = warden_strlen(text);
    if (*at + n + 1 > cap) return -ENAMETOOLONG;
    for (size_t i = 0; i <= n; i++) buf[*at + i] = text[i];
    *at += n;
    return 0;
}

/// open_tree + mount_setattr: a private, detached, recursively flagged copy of `source`.
static int clone_tree(const char *source, uint64_t attributes) {
    long fd = SYS3(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) return (int)fd;
    struct mount_attr attr = {.attr_set = attributes, .propagation = MS_PRIVATE};
    long r = SYS5(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
    if (r < 0) { SYS1(SYS_close, fd); return (int)r; }
    return (int)fd;
}

int warden_open_mount_sources(struct warden_child_ctx *ctx, struct warden_mount_sources *src) {
    const struct warden_launch *plan = ctx->plan;
    src->device[0] = -1;
    if (plan->mount_count > WARDEN_MAX_MOUNTS) return -E2BIG;
    for (size_t i = 0; i < plan->mount_count; i++) {
        const struct warden_mount *m = &plan->mounts[i];
        src->bind[i] = -1;
        ctx->index = (int)i;
        if (m->kind == WARDEN_MOUNT_BIND) {
            uint64_t attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
            if (m->flags & WARDEN_MOUNT_READONLY) attributes |= MOUNT_ATTR_RDONLY;
            if (m->flags & WARDEN_MOUNT_NOEXEC) attributes |= MOUNT_ATTR_NOEXEC;
            int fd = clone_tree(m->source, attributes);
            if (fd < 0) return fd;
            src->bind[i] = fd;
        } else if (m->kind == WARDEN_MOUNT_DEV && src->device[0] < 0) {
            for (int k = 0; k < WARDEN_DEVICE_COUNT; k++) {
                char path[16] = "/dev/";
                size_t at = 5;
                append(path, sizeof(path), &at, device_nodes[k]);
                int fd = clone_tree(path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
                if (fd < 0) return fd;
                src->device[k] = fd;
            }
        }
    }
    ctx->index = -1;
    return 0;
}

/// Opens the directory that will hold `target`'s last component, creating missing directories
/// (0755) without following symlinks, and copies that component to `leaf`.
static int open_parent(int rootfd, const char *target, char leaf[256]) {
    int dir = (int)SYS4(SYS_openat, rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0) return dir;
    const char *p = target;
    for (;;) {
        while (*p == '/') p++;
        size_t n = 0;
        while (p[n] && p[n] != '/') n++;
        if (n == 0 || n > 255) { SYS1(SYS_close, dir); return n ? -ENAMETOOLONG : -EINVAL; }
        for (size_t i = 0; i < n; i++) leaf[i] = p[i];
        leaf[n] = 0;
        if ((n == 1 && leaf[0] == '.') || (n == 2 && leaf[0] == '.' && leaf[1] == '.')) {
            SYS1(SYS_close, dir);
            return -EINVAL;
        }
        const char *rest = p + n;
        while (*rest == '/') rest++;
        if (!*rest) return dir;   // `leaf` is the last component
        long r = SYS3(SYS_mkdirat, dir, leaf, 0755);
        if (r < 0 && r != -EEXIST) { SYS1(SYS_close, dir); return (int)r; }
        long next = SYS4(SYS_openat, dir, leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        SYS1(SYS_close, dir);
        if (next < 0) return (int)next;
        dir = (int)next;
        p = rest;
    }
}

/// Creates the mount point `leaf` in `dir`: a directory, or an empty file for a file bind.
static int create_leaf(int dir, const char *leaf, int directory, unsigned int mode) {
    long r;
    if (directory) {
        r = SYS3(SYS_mkdirat, dir, leaf, mode);
        if (r == -EEXIST) r = 0;
        if (r < 0) return (int)r;
        r = SYS4(SYS_openat, dir, leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    } else {
        r = SYS4(SYS_openat, dir, leaf, O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, mode);
    }
    if (r < 0) return (int)r;
    SYS1(SYS_close, r);
    return 0;
}

static int is_directory_tree(int fd) {
    struct statx stx;
    long r = SYS5(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_TYPE, &stx);
    if (r < 0) return (int)r;
    return (stx.stx_mode & 0170000) == 0040000;
}

/// mount(2) of a fresh filesystem at `target` below the attached root.
static int mount_fs(const char *fstype, const char *target, unsigned long flags, const char *data) {
    char path[4096];
    size_t at = 0;
    int r = append(path, sizeof(path), &at, ROOT_ATTACH);
    if (!r) r = append(path, sizeof(path), &at, target);
    if (r) return r;
    return (int)SYS5(SYS_mount, fstype, path, fstype, flags, data);
}

/// "mode=...,size=...,uid=...,gid=..." for a tmpfs owned by the agent.
static void tmpfs_options(char out[128], unsigned int mode, uint64_t size, const struct warden_launch *plan) {
    char num[24];
    size_t at = 0;
    append(out, 128, &at, "mode=0");
    size_t o = 0;
    char oct[12];
    do { oct[o++] = (char)('0' + (mode & 7)); mode >>= 3; } while (mode);
    for (size_t i = 0; i < o; i++) num[i] = oct[o - 1 - i];
    num[o] = 0;
    append(out, 128, &at, num);
    if (size) { append(out, 128, &at, ",size="); warden_utoa(size, num); append(out, 128, &at, num); }
    append(out, 128, &at, ",uid="); warden_utoa(plan->inside_uid, num); append(out, 128, &at, num);
    append(out, 128, &at, ",gid="); warden_utoa(plan->inside_gid, num); append(out, 128, &at, num);
}

/// /dev: a small tmpfs holding binds of the host's harmless device nodes and the usual links.
static int populate_dev(struct warden_child_ctx *ctx, const struct warden_mount *m, int dir,
                        const char *leaf, const struct warden_mount_sources *src) {
    int r = mount_fs("tmpfs", m->target, MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536");
    if (r < 0) return r;
    long dev = SYS4(SYS_openat, dir, leaf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (dev < 0) return (int)dev;
    for (int k = 0; k < WARDEN_DEVICE_COUNT && r == 0; k++) {
        r = create_leaf((int)dev, device_nodes[k], 0, 0666);
        if (!r) r = (int)SYS5(SYS_move_mount, src->device[k], "", dev, device_nodes[k], MOVE_MOUNT_F_EMPTY_PATH);
    }
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    };
    for (int k = 0; k < 4 && r == 0; k++) r = (int)SYS3(SYS_symlinkat, links[k][0], dev, links[k][1]);
    if (!r) r = (int)SYS3(SYS_mkdirat, dev, "shm", 01777);
    SYS1(SYS_close, dev);
    if (!r && (m->flags & WARDEN_MOUNT_DEV_SHM)) {
        char shm[4096];
        size_t at = 0;
        r = append(shm, sizeof(shm), &at, m->target);
        if (!r) r = append(shm, sizeof(shm), &at, "/shm");
        char options[128];
        tmpfs_options(options, 01777, 64u << 20, ctx->plan);
        if (!r) r = mount_fs("tmpfs", shm, MS_NOSUID | MS_NODEV | MS_NOEXEC, options);
    }
    return r;
}

/// Creates the target of entry `i` and attaches it.
static int place_entry(struct warden_child_ctx *ctx, int rootfd, size_t i, const struct warden_mount_sources *src) {
    const struct warden_mount *m = &ctx->plan->mounts[i];
    char leaf[256];
    warden_mark(ctx, WARDEN_STEP_MOUNT_TARGET);
    ctx->index = (int)i;
    int dir = open_parent(rootfd, m->target, leaf);
    if (dir < 0) return dir;
    int r;
    if (m->kind == WARDEN_MOUNT_SYMLINK) {
        r = (int)SYS3(SYS_symlinkat, m->source, dir, leaf);
    } else if (m->kind == WARDEN_MOUNT_BIND) {
        r = is_directory_tree(src->bind[i]);
        if (r >= 0) r = create_leaf(dir, leaf, r, r ? 0755 : 0644);
        if (!r) {
            warden_mark(ctx, WARDEN_STEP_MOUNT);
            ctx->index = (int)i;
            r = (int)SYS5(SYS_move_mount, src->bind[i], "", dir, leaf, MOVE_MOUNT_F_EMPTY_PATH);
        }
    } else {
        r = create_leaf(dir, leaf, 1, m->kind == WARDEN_MOUNT_DIR ? m->mode : 0755);
        if (!r && m->kind != WARDEN_MOUNT_DIR) {
            warden_mark(ctx, WARDEN_STEP_MOUNT);
            ctx->index = (int)i;
        }
        if (!r && m->kind == WARDEN_MOUNT_TMPFS) {
            char options[128];
            tmpfs_options(options, m->mode, m->size, ctx->plan);
            unsigned long flags = MS_NOSUID | MS_NODEV | ((m->flags & WARDEN_MOUNT_NOEXEC) ? MS_NOEXEC : 0);
            r = mount_fs("tmpfs", m->target, flags, options);
            if (!r && (m->flags & WARDEN_MOUNT_READONLY))
                r = mount_fs(NULL, m->target, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL);
        } else if (!r && m->kind == WARDEN_MOUNT_PROC) {
            r = mount_fs("proc", m->target, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        } else if (!r && m->kind == WARDEN_MOUNT_DEV) {
            r = populate_dev(ctx, m, dir, leaf, src);
        }
    }
    SYS1(SYS_close, dir);
    return r;
}

/// Makes the root read-only if asked, then pivots into it and detaches the host's tree.
static int pivot(struct warden_child_ctx *ctx, int rootfd) {
    warden_mark(ctx, WARDEN_STEP_PIVOT_ROOT);
    if (ctx->plan->flags & WARDEN_LAUNCH_ROOT_READONLY) {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        long r = SYS5(SYS_mount_setattr, rootfd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
        if (r < 0) return (int)r;
    }
    long r = SYS1(SYS_fchdir, rootfd);
    if (!r) r = SYS2(SYS_pivot_root, ".", ".");
    // The old root now sits under the new one; a lazy unmount detaches all of it at once.
    if (!r) r = SYS2(SYS_umount2, ".", MNT_DETACH);
    if (!r) r = SYS1(SYS_chdir, "/");
    return (int)r;
}

int warden_build_root(struct warden_child_ctx *ctx, const struct warden_mount_sources *src) {
    const struct warden_launch *plan = ctx->plan;
    long old_umask = SYS1(SYS_umask, 0);   // modes below are meant literally
    warden_mark(ctx, WARDEN_STEP_ROOT_TMPFS);
    int r = (int)SYS5(SYS_mount, "tmpfs", ROOT_ATTACH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (r < 0) return r;
    int rootfd = (int)SYS4(SYS_openat, AT_FDCWD, ROOT_ATTACH, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (rootfd < 0) return rootfd;
    for (size_t i = 0; i < plan->mount_count; i++) {
        r = place_entry(ctx, rootfd, i, src);
        if (r < 0) return r;
        if (src->bind[i] >= 0) SYS1(SYS_close, src->bind[i]);
    }
    if (src->device[0] >= 0)
        for (int k = 0; k < WARDEN_DEVICE_COUNT; k++) SYS1(SYS_close, src->device[k]);
    r = pivot(ctx, rootfd);
    SYS1(SYS_close, rootfd);
    SYS1(SYS_umask, old_umask);
    return r;
}
