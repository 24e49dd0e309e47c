#ifndef WARDEN_CSECCOMP_SHIM_H
#define WARDEN_CSECCOMP_SHIM_H
// libseccomp for Swift. Only `static inline` helpers live here: Swift cannot call C-variadic
// functions (seccomp_rule_add) or function-like macros (SCMP_ACT_ERRNO), so each gets a wrapper.
#include <seccomp.h>

static inline uint32_t warden_scmp_act_errno(uint16_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t warden_scmp_act_trace(uint16_t msg) { return SCMP_ACT_TRACE(msg); }

#endif
