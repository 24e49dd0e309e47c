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

/// Kernel addresses from /proc/kallsyms: all zero unless the reader may see kernel pointers.
static void try_kallsyms(void) {
    FILE *f = fopen("/proc/kallsyms", "re");
    if (!f) {
        result("kallsyms", "blocked errno=%s", errname(errno));
        return;
    }
    char line[256];
    unsigned long long address = 0;
    int lines = 0;
    while (!address && lines < 1000 && fgets(line, sizeof line, f)) {
        address = strtoull(line, NULL, 16);
        lines++;
    }
    fclose(f);
    if (address) result("kallsyms", "ESCAPED kernel address %llx visible", address);
    else result("kallsyms", "blocked zeroed");
}

int probe_procfs(int argc, char **argv) {
    (void)argc, (void)argv;
    try_kallsyms();
    int kcore = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    if (kcore >= 0) close(kcore);
    expect_fail("kcore", kcore, "opened /proc/kcore");
    try_open_write("core-pattern", "/proc/sys/kernel/core_pattern");
    try_open_write("sysrq-trigger", "/proc/sysrq-trigger");
    try_open_write("modprobe-path", "/proc/sys/kernel/modprobe");
    try_open_write("uevent-helper", "/sys/kernel/uevent_helper");
    try_open_write("self-exe", "/proc/self/exe");
    return 0;
}
