#ifndef WARDEN_CCAP_SHIM_H
#define WARDEN_CCAP_SHIM_H
// libcap for Swift: reading and describing capability sets (the launcher itself clears them with
// raw capset/prctl calls, see CSandboxLauncher/caps.c).
#include <sys/capability.h>

#endif
