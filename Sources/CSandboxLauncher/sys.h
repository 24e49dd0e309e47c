// SPDX-License-Identifier: Apache-2.0
// Raw system calls for the child: it shares the supervisor's memory (clone3 with CLONE_VM), so it
// must not touch errno (thread-local storage of the thread that cloned it) or any libc state.
// Each call returns the result or -errno, as the kernel does.
#ifndef WARDEN_SYS_H
#define WARDEN_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

static inline long warden_sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "warden launcher: raw system calls are written for x86_64 and aarch64"
#endif
}

#define SYS0(n) warden_sys6((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) warden_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) warden_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) warden_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) warden_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) warden_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/// Length of a C string (the child may not call libc).
static inline size_t warden_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/// Writes `value` in decimal at `out` (at least 21 bytes); returns the length.
static inline size_t warden_utoa(uint64_t value, char *out) {
    char tmp[21];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + value % 10); value /= 10; } while (value);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

#endif
