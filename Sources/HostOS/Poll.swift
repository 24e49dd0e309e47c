// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Events of `poll(2)`.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// `POLLIN`: data to read.
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    /// `POLLOUT`: room to write.
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    /// `POLLPRI`.
    public static let priority = PollEvents(rawValue: Int16(POLLPRI))
    /// `POLLERR`.
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    /// `POLLHUP`: the other end is gone.
    public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
    /// `POLLNVAL`.
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

extension FileDescriptor {
    /// Waits until one of `requests` is ready or `timeoutMilliseconds` pass (-1: forever); returns the
    /// events that occurred, one per request. `EINTR` restarts the wait with the full timeout.
    /// The corresponding C function is `poll`.
    public static func poll(_ requests: [(FileDescriptor, PollEvents)], timeoutMilliseconds: Int32) throws(Errno) -> [PollEvents] {
        var fds = requests.map { pollfd(fd: $0.0.rawValue, events: $0.1.rawValue, revents: 0) }
        let count = fds.count
        _ = try valueOrErrno { fds.withUnsafeMutableBufferPointer { system_poll($0.baseAddress!, count, timeoutMilliseconds) } }
        return fds.map { PollEvents(rawValue: $0.revents) }
    }
}
