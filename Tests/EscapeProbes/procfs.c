// Kernel control files and the running executable. Opening for writing is the test: a probe
// never writes to core_pattern or sysrq-trigger, so even an escape changes nothing.
#include "probe.h"
#include <fcntl.h>

/// Opens `path` write-only and closes it again without writing.
static void try_open_write(const char *name, const char *path) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        result(name, "blocked errno=%s", errname(errno));
        return;
    }
    close(fd);
    result(name, "ESCAPED opened %s for writing", path);
}

int probe_procfs(int argc, char **argv) {
    (void)argc, (void)argv;
    try_open_write("core-pattern", "/proc/sys/kernel/core_pattern");
    try_open_write("sysrq-trigger", "/proc/sysrq-trigger");
    try_open_write("modprobe-path", "/proc/sys/kernel/modprobe");
    try_open_write("uevent-helper", "/sys/kernel/uevent_helper");
    try_open_write("self-exe", "/proc/self/exe");
    return 0;
}
