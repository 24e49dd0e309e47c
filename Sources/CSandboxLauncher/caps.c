// SPDX-License-Identifier: Apache-2.0
// Capabilities: the child holds every capability of its new user namespace until here. All five
// sets are emptied (bounding, ambient, inheritable, permitted, effective) and no_new_privs is set,
// so neither exec of a file with capabilities nor a setuid binary can give any back.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/prctl.h>

#include "child.h"
#include "sys.h"

int warden_drop_capabilities(void) {
    // Bounding set first: dropping from it needs CAP_SETPCAP, which capset below removes.
    for (long cap = 0; cap < 64; cap++) {
        long r = SYS2(SYS_prctl, PR_CAPBSET_DROP, cap);
        if (r == -EINVAL) break;   // past the kernel's last capability
        if (r < 0) return (int)r;
    }
    long r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (r < 0) return (int)r;
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};
    return (int)SYS2(SYS_capset, &header, data);
}

int warden_set_no_new_privs(void) {
    return (int)SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
