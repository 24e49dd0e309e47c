// open_by_handle_at ("shocker"): turn a file handle into an open file, bypassing path checks.
// The handle comes from name_to_handle_at on the working directory, so a successful open is
// harmless (a directory we could already see) but proves CAP_DAC_READ_SEARCH-class access.
#include "probe.h"
#include <fcntl.h>

int probe_handle(int argc, char **argv) {
    (void)argc, (void)argv;
    struct {
        struct file_handle fh;
        unsigned char bytes[128];
    } h;
    h.fh.handle_bytes = sizeof h.bytes;
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, ".", &h.fh, &mount_id, 0) < 0) {
        // No handle from the sandbox's own file system: forge a classic one (ext4 root, inode 2).
        result("name-to-handle", "info errno=%s", errname(errno));
        h.fh.handle_bytes = 8;
        h.fh.handle_type = 1;
        unsigned int ino_gen[2] = {2, 0};
        memcpy(h.fh.f_handle, ino_gen, sizeof ino_gen);
    }
    int mount_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_CLOEXEC);
    expect_fail("open-by-handle", fd, "opened a file by handle");
    if (fd >= 0) close(fd);
    close(mount_fd);
    return 0;
}
