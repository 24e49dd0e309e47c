// TIOCSTI (CVE-2017-5226): push keystrokes into the terminal we inherited as stdin, and into
// /dev/tty. The test gives us a pty slave and reads its input queue afterwards.
#include "probe.h"
#include <fcntl.h>
#include <sys/ioctl.h>

/// Pushes "id\n" into the input queue of `fd`; one RESULT for the attempt.
static void try_inject(const char *name, int fd) {
    const char *keys = "id\n";
    for (const char *k = keys; *k; k++)
        if (ioctl(fd, TIOCSTI, k) < 0) {
            result(name, "blocked errno=%s", errname(errno));
            return;
        }
    result(name, "ESCAPED injected %zu bytes", strlen(keys));
}

int probe_tty(int argc, char **argv) {
    (void)argc, (void)argv;
    result("stdin-isatty", "info %d", isatty(0));
    try_inject("tiocsti-stdin", 0);
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty < 0) {
        result("dev-tty", "blocked errno=%s", errname(errno));
        return 0;
    }
    try_inject("dev-tty", tty);
    close(tty);
    return 0;
}
