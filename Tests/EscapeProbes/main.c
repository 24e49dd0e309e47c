// The probe binary's entry point: `probe <group> [args...]` runs one group of attempts.
#include "probe.h"

struct group {
    const char *name;
    int (*run)(int, char **);
};

static const struct group groups[] = {
    {"files", probe_files},       {"mounts", probe_mounts},       {"procfs", probe_procfs},
    {"devices", probe_devices},   {"handle", probe_handle},       {"fds", probe_fds},
    {"identity", probe_identity}, {"tty", probe_tty},             {"syscalls", probe_syscalls},
    {"net", probe_net},           {"hostproc", probe_hostproc},   {"fill-tmp", probe_fill_tmp},
    {"fsize", probe_fsize},       {"forkbomb", probe_forkbomb},   {"membomb", probe_membomb},
    {"spin", probe_spin},         {"daemonize", probe_daemonize}, {"flood", probe_flood},
    {"x32", probe_x32},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: probe GROUP [ARGS...]\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(argv[1], groups[i].name) == 0) {
            int rc = groups[i].run(argc - 2, argv + 2);
            result("done", "info group=%s", argv[1]);
            return rc;
        }
    fprintf(stderr, "probe: unknown group %s\n", argv[1]);
    return 2;
}
