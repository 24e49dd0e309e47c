// Device nodes: mknod a character and a block device, open /dev/mem, /dev/kmsg, a disk, and the
// NVIDIA nodes (the GPU belongs to the supervisor's inference pool, never to an agent).
// argv: none. Nodes are created in the working directory (the workspace).
#include "probe.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void try_open(const char *name, const char *path, int flags) {
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        result(name, "blocked errno=%s", errname(errno));
        return;
    }
    close(fd);
    result(name, "ESCAPED opened %s", path);
}

int probe_devices(int argc, char **argv) {
    (void)argc, (void)argv;
    // 1:1 is /dev/mem, 8:0 is /dev/sda.
    expect_fail("mknod-char-mem", mknod("node-mem", S_IFCHR | 0600, makedev(1, 1)), "made a /dev/mem node");
    expect_fail("mknod-block-sda", mknod("node-sda", S_IFBLK | 0600, makedev(8, 0)), "made a /dev/sda node");
    try_open("dev-mem", "/dev/mem", O_RDONLY);
    try_open("dev-kmsg", "/dev/kmsg", O_RDONLY);
    try_open("dev-sda", "/dev/sda", O_RDONLY);
    try_open("dev-vda", "/dev/vda", O_RDONLY);
    try_open("dev-nvidiactl", "/dev/nvidiactl", O_RDWR);
    try_open("dev-nvidia0", "/dev/nvidia0", O_RDWR);
    try_open("dev-nvidia-uvm", "/dev/nvidia-uvm", O_RDWR);
    return 0;
}
