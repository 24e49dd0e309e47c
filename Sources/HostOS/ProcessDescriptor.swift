// SPDX-License-Identifier: Apache-2.0
// Process file descriptors: signal and reap a process by fd, never by a pid that may be reused.
import Glibc

/// How a process ended.
public enum TerminationStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// It called exit with this code.
    case exited(Int32)
    /// A signal killed it.
    case signaled(Int32, coreDumped: Bool)

    /// The shell's convention: the code, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal, _): 128 + signal
        }
    }

    /// "exited 0", "killed by signal 9".
    public var description: String {
        switch self {
        case .exited(let code): "exited \(code)"
        case .signaled(let signal, let core): "killed by signal \(signal)\(core ? " (core dumped)" : "")"
        }
    }
}

/// A pidfd: a handle on one process that stays valid after it exits.
public struct ProcessDescriptor: Hashable, Sendable {
    /// The underlying close-on-exec descriptor.
    public let descriptor: FileDescriptor

    /// Wraps a pidfd the caller owns.
    public init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// Opens a pidfd for `pid` (a child, to be race-free). The corresponding C function is `pidfd_open`.
    public static func open(pid: pid_t) throws(Errno) -> ProcessDescriptor {
        let fd = try valueOrErrno { system_pidfd_open(pid, 0) }
        return ProcessDescriptor(descriptor: FileDescriptor(rawValue: fd))
    }

    /// Sends `signal`; `ESRCH` once the process has exited. The corresponding C function is `pidfd_send_signal`.
    public func send(signal: Int32) throws(Errno) {
        try nothingOrErrno { system_pidfd_send_signal(descriptor.rawValue, signal, 0) }
    }

    /// Reaps the process, waiting for it unless `nonBlocking` (then nil while it runs).
    /// The corresponding C function is `waitid(P_PIDFD)`.
    public func wait(nonBlocking: Bool = false) throws(Errno) -> TerminationStatus? {
        var code: Int32 = 0, status: Int32 = 0, pid: pid_t = 0
        let options = WEXITED | (nonBlocking ? WNOHANG : 0)
        try nothingOrErrno { system_waitid_pidfd(descriptor.rawValue, options, &code, &status, &pid) }
        if pid == 0 { return nil }   // WNOHANG and still running
        switch code {
        case Int32(CLD_EXITED): return .exited(status)
        case Int32(CLD_DUMPED): return .signaled(status, coreDumped: true)
        default: return .signaled(status, coreDumped: false)
        }
    }

    /// Closes the pidfd.
    public func close() throws(Errno) { try descriptor.close() }
}
