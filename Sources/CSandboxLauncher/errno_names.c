// SPDX-License-Identifier: Apache-2.0
// Errno names ("ENOENT") for HostOS messages: strerrorname_np needs _GNU_SOURCE, which a Swift
// module map cannot promise to have defined before <string.h> is first read.
#define _GNU_SOURCE
#include <string.h>

#include "host_shims.h"

const char *warden_errno_name(int error) {
    const char *name = strerrorname_np(error);
    return name ? name : "E?";
}
