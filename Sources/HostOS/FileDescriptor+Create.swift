// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import Glibc

extension FileDescriptor {
    /// A pipe whose ends are both close-on-exec. The corresponding C function is `pipe2`.
    public static func pipe() throws(Errno) -> (readEnd: FileDescriptor, writeEnd: FileDescriptor) {
        var fds: (Int32, Int32) = (-1, -1)
        try nothingOrErrno {
            withUnsafeMutablePointer(to: &fds) { $0.withMemoryRebound(to: Int32.self, capacity: 2) { system_pipe2($0, O_CLOEXEC) } }
        }
        return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
    }

    /// The kind of a unix socket pair.
    public enum SocketKind: Sendable {
        case stream, datagram, sequencedPacket
        var type: Int32 {
            switch self {
            case .stream: Int32(SOCK_STREAM.rawValue)
            case .datagram: Int32(SOCK_DGRAM.rawValue)
            case .sequencedPacket: Int32(SOCK_SEQPACKET.rawValue)
            }
        }
    }

    /// A connected pair of close-on-exec unix sockets. The corresponding C function is `socketpair`.
    public static func socketPair(_ kind: SocketKind = .stream) throws(Errno) -> (FileDescriptor, FileDescriptor) {
        var fds: (Int32, Int32) = (-1, -1)
        let type = kind.type | Int32(SOCK_CLOEXEC.rawValue)
        try nothingOrErrno {
            withUnsafeMutablePointer(to: &fds) {
                $0.withMemoryRebound(to: Int32.self, capacity: 2) { system_socketpair(AF_UNIX, type, 0, $0) }
            }
        }
        return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
    }

    /// An anonymous in-memory file (close-on-exec), such as a seccomp filter to hand over by fd.
    /// The corresponding C function is `memfd_create`.
    public static func memfd(name: String, allowSealing: Bool = false) throws(Errno) -> FileDescriptor {
        let flags = UInt32(MFD_CLOEXEC) | (allowSealing ? UInt32(MFD_ALLOW_SEALING) : 0)
        let fd = try valueOrErrno { system_memfd_create(name, flags) }
        return FileDescriptor(rawValue: fd)
    }
}
