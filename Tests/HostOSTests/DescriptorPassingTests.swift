// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import HostOS
import Testing

@Suite("Descriptor passing")
struct DescriptorPassingTests {
    @Test(arguments: [FileDescriptor.SocketKind.stream, .sequencedPacket, .datagram])
    func passesDescriptorsWithBytes(_ kind: FileDescriptor.SocketKind) throws {
        let (left, right) = try FileDescriptor.socketPair(kind)
        defer { try? left.close(); try? right.close() }
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        let memory = try FileDescriptor.memfd(name: "passed")
        try left.send(descriptors: [writeEnd, memory], bytes: Array("two fds".utf8))
        try writeEnd.close()
        try memory.close()
        let (bytes, descriptors) = try right.receive(maxDescriptors: 4)
        #expect(bytes == Array("two fds".utf8))
        try #require(descriptors.count == 2)
        #expect(try descriptors.allSatisfy { try $0.isCloseOnExec() })
        // The received pipe end is the same pipe: what we write arrives at our read end.
        try descriptors[0].writeAll(Array("through".utf8))
        try descriptors[0].close()
        try descriptors[1].close()
        #expect(try readEnd.readAll() == Array("through".utf8))
        try readEnd.close()
    }

    @Test func tooManyDescriptorsAreRefusedAndClosed() throws {
        let (left, right) = try FileDescriptor.socketPair(.sequencedPacket)
        defer { try? left.close(); try? right.close() }
        let files = try (0..<3).map { _ in try FileDescriptor.open("/dev/null", .readOnly) }
        try left.send(descriptors: files)
        for file in files { try file.close() }
        #expect(throws: Errno.messageTooLong) { _ = try right.receive(maxDescriptors: 2) }
    }

    @Test func nonBlockingReceiveOnAnEmptySocket() throws {
        let (left, right) = try FileDescriptor.socketPair(.sequencedPacket)
        defer { try? left.close(); try? right.close() }
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try right.receive(nonBlocking: true) }
    }
}
