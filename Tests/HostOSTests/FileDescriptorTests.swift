// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import HostOS
import Testing

@Suite("FileDescriptor")
struct FileDescriptorTests {
    @Test func pipeRoundTripAndEndOfFile() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        try writeEnd.writeAll(Array("hello, pipe".utf8))
        try writeEnd.close()
        #expect(try readEnd.readAll() == Array("hello, pipe".utf8))
        #expect(try readEnd.readAll() == [])   // EOF stays EOF
        try readEnd.close()
    }

    @Test func readAllHonoursItsLimit() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        try writeEnd.writeAll([UInt8](repeating: 7, count: 1000))
        try writeEnd.close()
        #expect(try readEnd.readAll(limit: 10).count == 10)
        try readEnd.close()
    }

    @Test func descriptorsAreCloseOnExecByDefaultAndCanBeChanged() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        defer { try? readEnd.close(); try? writeEnd.close() }
        #expect(try readEnd.isCloseOnExec())
        try readEnd.setCloseOnExec(false)
        #expect(try !readEnd.isCloseOnExec())
        let file = try FileDescriptor.open("/dev/null", .readOnly)
        #expect(try file.isCloseOnExec())
        try file.close()
        let inheritable = try FileDescriptor.open("/dev/null", .readOnly, closeOnExec: false)
        #expect(try !inheritable.isCloseOnExec())
        try inheritable.close()
    }

    @Test func duplicateOntoATargetNumber() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        let copy = try writeEnd.duplicate(as: FileDescriptor(rawValue: 97), closeOnExec: false)
        #expect(copy.rawValue == 97)
        #expect(try !copy.isCloseOnExec())
        try writeEnd.close()
        try copy.writeAll([42])
        try copy.close()
        #expect(try readEnd.readAll() == [42])
        try readEnd.close()
    }

    @Test func openErrorsAreNamed() {
        #expect(throws: Errno.noSuchFileOrDirectory) {
            _ = try FileDescriptor.open("/nonexistent/warden", .readOnly)
        }
        #expect(Errno.noSuchFileOrDirectory.name == "ENOENT")
        #expect(Errno.noSuchFileOrDirectory.description == "No such file or directory (ENOENT)")
        #expect(Errno(rawValue: EACCES) == .permissionDenied)
    }

    @Test func openCreatesWithTheGivenPermissions() throws {
        let path = "/tmp/warden-hostos-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let old = umask(0)
        defer { umask(old) }
        let file = try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate], permissions: 0o640)
        try file.close()
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
        #expect(throws: Errno.fileExists) {
            _ = try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate])
        }
    }

    @Test func memfdHoldsBytes() throws {
        let memory = try FileDescriptor.memfd(name: "warden-test")
        try memory.writeAll(Array("in memory".utf8))
        #expect(lseek(memory.rawValue, 0, SEEK_SET) == 0)
        #expect(try memory.readAll() == Array("in memory".utf8))
        #expect(try memory.isCloseOnExec())
        try memory.close()
    }

    @Test func pollReportsReadinessAndHangUp() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        #expect(try FileDescriptor.poll([(readEnd, .readable)], timeoutMilliseconds: 0) == [[]])
        try writeEnd.writeAll([1])
        #expect(try FileDescriptor.poll([(readEnd, .readable)], timeoutMilliseconds: 0) == [.readable])
        try writeEnd.close()
        #expect(try FileDescriptor.poll([(readEnd, .readable)], timeoutMilliseconds: 0).first?.contains(.hangUp) == true)
        try readEnd.close()
    }

    /// Closing a descriptor that is not open is a programmer error: it traps instead of throwing.
    @Test func badDescriptorTraps() async {
        await #expect(processExitsWith: .failure) {
            try? FileDescriptor(rawValue: 31_999).close()
        }
    }
}
