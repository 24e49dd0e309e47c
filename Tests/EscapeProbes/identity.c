// Privilege through a planted setuid-root binary: the test copies this probe into the workspace
// as root with mode 4755 and runs it. We report our ids and capabilities, try to become uid 0, and
// leave a file (argv[0], in the working directory) whose host owner the test checks.
#include "probe.h"
#include <fcntl.h>
#include <sys/prctl.h>

/// The hex value of a "CapEff:"-style line of /proc/self/status, or -1.
static long long status_hex(const char *key) {
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return -1;
    char line[256];
    long long value = -1;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0) value = strtoll(line + len, NULL, 16);
    fclose(f);
    return value;
}

int probe_identity(int argc, char **argv) {
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    long long eff = status_hex("CapEff:"), prm = status_hex("CapPrm:"), amb = status_hex("CapAmb:");
    result("ids", "info ruid=%u euid=%u suid=%u capeff=%llx capprm=%llx nnp=%d", r, e, s, eff, prm,
           prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    if (e != r || s != r) result("setuid-gain", "ESCAPED euid=%u suid=%u ruid=%u", e, s, r);
    else result("setuid-gain", "blocked euid=%u ruid=%u", e, r);
    if (eff != 0 || prm != 0 || amb != 0) result("capabilities", "ESCAPED capeff=%llx capprm=%llx capamb=%llx", eff, prm, amb);
    else result("capabilities", "blocked capeff=0");
    if (r != 0) expect_fail("setuid-root", setuid(0), "became uid 0");
    if (argc > 0) {
        int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
        result("owner-file", "info %s", fd >= 0 ? "created" : errname(errno));
    }
    return 0;
}
