// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Runs a system call until it stops failing with `EINTR` (the one place that retries), returning
/// its non-negative result or throwing its errno. Programmer errors trap.
@inline(__always)
internal func valueOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) throws(Errno) -> I {
    while true {
        let result = call()
        if result >= 0 { return result }
        let error = Errno.current
        if retryOnInterrupt && error == .interrupted { continue }
        error.trapIfProgrammerError()
        throw error
    }
}

/// `valueOrErrno` for calls whose result carries no information.
@inline(__always)
internal func nothingOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) throws(Errno) {
    _ = try valueOrErrno(retryOnInterrupt: retryOnInterrupt, call)
}
