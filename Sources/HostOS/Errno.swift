// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import Glibc

/// An error number from a system call, with the names swift-system uses for the common ones.
///
/// HostOS's one error type: every throwing call here throws `Errno`. Programmer errors
/// (`EBADF`, `EFAULT`) never arrive as values; they trap where they happen.
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C errno value.
    public let rawValue: Int32

    /// Wraps a C errno value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// The symbolic C name, such as `ENOENT`.
    public var name: String { String(cString: warden_errno_name(rawValue)) }

    /// The C library's message for this error.
    public var message: String { String(cString: strerror(rawValue)) }

    /// "No such file or directory (ENOENT)".
    public var description: String { "\(message) (\(name))" }

    /// `EPERM`.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// `ENOENT`.
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `ESRCH`.
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    /// `EINTR`.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EIO`.
    public static let ioError = Errno(rawValue: EIO)
    /// `E2BIG`.
    public static let argumentListTooLong = Errno(rawValue: E2BIG)
    /// `ENOEXEC`.
    public static let execFormatError = Errno(rawValue: ENOEXEC)
    /// `EBADF` (a programmer error: traps rather than being thrown).
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `ECHILD`.
    public static let noChildProcess = Errno(rawValue: ECHILD)
    /// `EAGAIN`, also `EWOULDBLOCK`.
    public static let resourceTemporarilyUnavailable = Errno(rawValue: EAGAIN)
    /// `ENOMEM`.
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// `EACCES`.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EFAULT` (a programmer error: traps rather than being thrown).
    public static let badAddress = Errno(rawValue: EFAULT)
    /// `EBUSY`.
    public static let resourceBusy = Errno(rawValue: EBUSY)
    /// `EEXIST`.
    public static let fileExists = Errno(rawValue: EEXIST)
    /// `EXDEV`.
    public static let crossDeviceLink = Errno(rawValue: EXDEV)
    /// `ENOTDIR`.
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EISDIR`.
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// `EINVAL`.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `EMFILE`.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// `ENOSPC`.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// `EROFS`.
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)
    /// `EPIPE`.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ENAMETOOLONG`.
    public static let fileNameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// `ENOSYS`.
    public static let noFunction = Errno(rawValue: ENOSYS)
    /// `ELOOP`.
    public static let tooManySymbolicLinkLevels = Errno(rawValue: ELOOP)
    /// `EMSGSIZE`.
    public static let messageTooLong = Errno(rawValue: EMSGSIZE)
    /// `EOVERFLOW`.
    public static let overflow = Errno(rawValue: EOVERFLOW)
    /// `ECANCELED`.
    public static let canceled = Errno(rawValue: ECANCELED)
    /// `ETIMEDOUT`.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `ECONNREFUSED`.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `EADDRINUSE`.
    public static let addressInUse = Errno(rawValue: EADDRINUSE)

    /// Traps on errors that mean the program is wrong (a closed or foreign fd, a bad pointer),
    /// as swift-nio does: they must not be handled as if the world had failed.
    @inline(__always)
    func trapIfProgrammerError(_ function: StaticString = #function) {
        precondition(rawValue != EBADF && rawValue != EFAULT, "\(function): \(self) is a programmer error")
    }
}
