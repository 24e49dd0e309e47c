// SPDX-License-Identifier: Apache-2.0
// Descriptor passing over unix sockets (SCM_RIGHTS): how the launcher hands the seccomp listener
// and the broker's listening sockets from inside the sandbox to the supervisor.
import Glibc

extension FileDescriptor {
    /// Sends `bytes` (at least one byte; the kernel drops fd-only messages on stream sockets) and
    /// `descriptors` in one message. The corresponding C function is `sendmsg`.
    public func send(descriptors: [FileDescriptor], bytes: [UInt8] = [0]) throws(Errno) {
        guard !bytes.isEmpty, descriptors.count <= 64 else { throw Errno.invalidArgument }
        let numbers = descriptors.map(\.rawValue)
        try nothingOrErrno {
            bytes.withUnsafeBytes { raw in
                numbers.withUnsafeBufferPointer { fds in
                    system_sendfds(rawValue, fds.baseAddress, Int32(fds.count), raw.baseAddress!, raw.count)
                }
            }
        }
    }

    /// Receives one message: its bytes (empty at end of stream) and the descriptors it carried,
    /// close-on-exec. More than `maxDescriptors` fails with `EMSGSIZE` and closes them all.
    /// The corresponding C function is `recvmsg`.
    public func receive(maxDescriptors: Int = 16, maxBytes: Int = 4096, nonBlocking: Bool = false)
        throws(Errno) -> (bytes: [UInt8], descriptors: [FileDescriptor])
    {
        var bytes = [UInt8](repeating: 0, count: max(1, maxBytes))
        var fds = [Int32](repeating: -1, count: max(1, min(maxDescriptors, 64)))
        var received: Int32 = 0
        let flags = nonBlocking ? Int32(MSG_DONTWAIT) : 0
        let limit = Int32(min(maxDescriptors, 64))
        let count = try valueOrErrno {
            bytes.withUnsafeMutableBytes { raw in
                fds.withUnsafeMutableBufferPointer { fdBuffer in
                    system_recvfds(rawValue, fdBuffer.baseAddress!, limit, &received, raw.baseAddress!, raw.count, flags)
                }
            }
        }
        return (Array(bytes[..<count]), fds[..<Int(received)].map { FileDescriptor(rawValue: $0) })
    }
}
