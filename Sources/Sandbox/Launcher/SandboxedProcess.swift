// SPDX-License-Identifier: Apache-2.0
import HostOS
import Glibc

/// A started sandboxed process. The caller owns its descriptors and must reap it.
public struct SandboxedProcess: Sendable {
    /// The host pid (the process is pid 1 of its own pid namespace).
    public let pid: Int32
    /// A pidfd for signalling and reaping without pid reuse races.
    public let pidfd: ProcessDescriptor
    /// The seccomp user-notification listener, when the filter asked for one.
    public let seccompListener: FileDescriptor?
    /// Listening TCP sockets inside the sandbox's netns, in `loopbackListenPorts` order.
    public let listeners: [FileDescriptor]
    /// Nanoseconds from the start of launch to the start of each setup step (when tracing).
    public let stepTimes: [(step: LaunchStep, nanoseconds: UInt64)]

    /// Waits for the process to end and reaps it.
    public func wait() throws(Errno) -> TerminationStatus {
        guard let status = try pidfd.wait() else { throw Errno.resourceTemporarilyUnavailable }
        return status
    }

    /// Sends `signal` (SIGKILL by default).
    public func kill(_ signal: Int32 = SIGKILL) throws(Errno) {
        try pidfd.send(signal: signal)
    }

    /// Closes the pidfd and any listener descriptors (after reaping).
    public func closeDescriptors() {
        try? pidfd.close()
        try? seccompListener?.close()
        for listener in listeners { try? listener.close() }
    }
}
