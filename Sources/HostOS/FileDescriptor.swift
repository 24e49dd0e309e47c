// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import Glibc

/// An open file descriptor: a plain number, closed explicitly (swift-system's shape).
public struct FileDescriptor: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The descriptor number.
    public let rawValue: Int32

    /// Wraps a descriptor number that the caller owns.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Descriptor 0.
    public static let standardInput = FileDescriptor(rawValue: 0)
    /// Descriptor 1.
    public static let standardOutput = FileDescriptor(rawValue: 1)
    /// Descriptor 2.
    public static let standardError = FileDescriptor(rawValue: 2)

    /// "fd 7".
    public var description: String { "fd \(rawValue)" }

    /// How a file is opened for reading and writing.
    public enum AccessMode: Sendable {
        case readOnly, writeOnly, readWrite
        var flags: Int32 {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// Options for `open` besides the access mode.
    public struct OpenOptions: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// `O_CREAT`.
        public static let create = OpenOptions(rawValue: O_CREAT)
        /// `O_EXCL`.
        public static let exclusiveCreate = OpenOptions(rawValue: O_EXCL)
        /// `O_TRUNC`.
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// `O_APPEND`.
        public static let append = OpenOptions(rawValue: O_APPEND)
        /// `O_DIRECTORY`.
        public static let directory = OpenOptions(rawValue: O_DIRECTORY)
        /// `O_NOFOLLOW`.
        public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
        /// `O_NONBLOCK`.
        public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
        /// `O_PATH`.
        public static let path = OpenOptions(rawValue: WARDEN_O_PATH)
    }

    /// Opens `path`. The descriptor is close-on-exec unless `closeOnExec` is false.
    /// The corresponding C function is `open`.
    public static func open(
        _ path: String, _ mode: AccessMode, options: OpenOptions = [], permissions: mode_t = 0o644,
        closeOnExec: Bool = true
    ) throws(Errno) -> FileDescriptor {
        let flags = mode.flags | options.rawValue | (closeOnExec ? O_CLOEXEC : 0)
        let fd = try valueOrErrno { system_open(path, flags, permissions) }
        return FileDescriptor(rawValue: fd)
    }

    /// Closes the descriptor. `EINTR` is not retried: on Linux the descriptor is gone either way.
    /// The corresponding C function is `close`.
    public func close() throws(Errno) {
        if system_close(rawValue) == 0 { return }
        let error = Errno.current
        if error == .interrupted { return }
        error.trapIfProgrammerError()
        throw error
    }

    /// Reads at most `buffer.count` bytes; 0 means end of file. The corresponding C function is `read`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try valueOrErrno { system_read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes at most `buffer.count` bytes and returns how many were written.
    /// The corresponding C function is `write`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try valueOrErrno { system_write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes all of `bytes`, looping over short writes.
    public func writeAll(_ bytes: some Collection<UInt8>) throws(Errno) {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let written = try valueOrErrno {
                array.withUnsafeBytes { system_write(rawValue, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    /// Reads until end of file, or until `limit` bytes have arrived.
    public func readAll(limit: Int = .max) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while result.count < limit {
            let want = min(chunk.count, limit - result.count)
            let count = try valueOrErrno { chunk.withUnsafeMutableBytes { system_read(rawValue, $0.baseAddress, want) } }
            if count == 0 { break }
            result.append(contentsOf: chunk[..<count])
        }
        return result
    }

    /// Duplicates the descriptor onto `target` (or the lowest free number when nil).
    /// The corresponding C functions are `dup3` and `fcntl(F_DUPFD_CLOEXEC)`.
    public func duplicate(as target: FileDescriptor? = nil, closeOnExec: Bool = true) throws(Errno) -> FileDescriptor {
        if let target {
            let fd = try valueOrErrno { system_dup3(rawValue, target.rawValue, closeOnExec ? O_CLOEXEC : 0) }
            return FileDescriptor(rawValue: fd)
        }
        let fd = try valueOrErrno { system_fcntl(rawValue, closeOnExec ? F_DUPFD_CLOEXEC : F_DUPFD, 0) }
        return FileDescriptor(rawValue: fd)
    }

    /// Whether the descriptor closes on exec. The corresponding C function is `fcntl(F_GETFD)`.
    public func isCloseOnExec() throws(Errno) -> Bool {
        let flags = try valueOrErrno { system_fcntl(rawValue, F_GETFD) }
        return flags & FD_CLOEXEC != 0
    }

    /// Sets or clears close-on-exec. The corresponding C function is `fcntl(F_SETFD)`.
    public func setCloseOnExec(_ enabled: Bool) throws(Errno) {
        let flags = try valueOrErrno { system_fcntl(rawValue, F_GETFD) }
        let updated = enabled ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        try nothingOrErrno { system_fcntl(rawValue, F_SETFD, updated) }
    }
}
