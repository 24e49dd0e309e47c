// SPDX-License-Identifier: Apache-2.0
#ifndef WARDEN_NETNS_POOL_H
#define WARDEN_NETNS_POOL_H

/// Takes a prepared network namespace fd (CLOEXEC; the caller closes it), or -1 when none is ready.
int warden_netns_pool_take(void);

/// The calling thread's network namespace as an fd (CLOEXEC), or -errno.
int warden_thread_netns_fd(void);

#endif
