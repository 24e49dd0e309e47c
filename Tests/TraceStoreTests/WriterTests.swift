import Foundation
import Glibc
import Specs
import Testing
@testable import TraceStore

@Suite("group-commit writer")
struct WriterTests {
    /// A writer on a fresh file, chained to the zero hash.
    static func writer(_ path: String, _ configuration: WriterConfiguration) throws -> TraceWriter {
        let fd = try TraceFileIO.open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
        _ = TraceFileIO.writeAll(fd, TraceFormat.header(kind: .run))
        return try TraceWriter(path: path, fd: fd, nextSeq: 0, head: .zero, configuration: configuration)
    }

    static func append(_ writer: TraceWriter, _ i: Int, critical: Bool = false) throws -> UInt64 {
        try writer.append("t", span: SpanID(hex: "0102030405060708")!, parent: nil,
                          body: JSONObject([("i", .number(JSONNumber(i)))]), critical: critical)
    }

    static let modes: [WriterConfiguration.SyncMode] = [.none, .groupCommit(windowNanoseconds: 5_000_000), .everyRecord]

    @Test("every mode writes a gap-free chain, durable after the barrier", arguments: modes)
    func modesWriteChain(mode: WriterConfiguration.SyncMode) throws {
        let fixture = try TraceFixture("writer")
        defer { fixture.remove() }
        try fixture.directory.create()
        let path = fixture.directory.path + "/w.trace"
        let writer = try Self.writer(path, WriterConfiguration(sync: mode, queueCapacity: 16))
        for i in 0..<500 { _ = try Self.append(writer, i) }
        try writer.sync()
        #expect(writer.durableSequence == 499)
        try writer.close()
        let scan = try TraceReader.scan(path: path, chainStart: .zero)
        #expect(scan.problem == nil)
        #expect(scan.records.map(\.record.seq) == (0..<500).map(UInt64.init))
    }

    @Test("group commit makes records durable without a barrier (within the window)")
    func windowSyncs() throws {
        let fixture = try TraceFixture("window")
        defer { fixture.remove() }
        try fixture.directory.create()
        let writer = try Self.writer(fixture.directory.path + "/w.trace", WriterConfiguration(sync: .groupCommit(windowNanoseconds: 1_000_000)))
        let seq = try Self.append(writer, 1)
        // No barrier: the writer thread must sync on its own once the window closes. Poll, never assert a time.
        var spins = 0
        while writer.durableSequence != seq && spins < 10_000 { usleep(1000); spins += 1 }
        #expect(writer.durableSequence == seq)
        try writer.close()
    }

    @Test("concurrent appenders get contiguous seqs and one valid chain")
    func concurrentAppends() async throws {
        let fixture = try TraceFixture("concurrent")
        defer { fixture.remove() }
        try fixture.directory.create()
        let path = fixture.directory.path + "/w.trace"
        let writer = try Self.writer(path, WriterConfiguration(queueCapacity: 8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<4 { group.addTask { for i in 0..<200 { _ = try Self.append(writer, t * 1000 + i, critical: i % 50 == 0) } } }
            try await group.waitForAll()
        }
        try writer.close()
        let scan = try TraceReader.scan(path: path, chainStart: .zero)
        #expect(scan.problem == nil)
        #expect(scan.records.count == 800)
    }

    @Test("ENOSPC under fail-closed: appends and barriers throw, naming the last durable record")
    func failClosed() throws {
        let fd = try TraceFileIO.open("/dev/full", O_WRONLY)
        let writer = try TraceWriter(path: "/dev/full", fd: fd, nextSeq: 0, head: .zero, configuration: WriterConfiguration())
        _ = try Self.append(writer, 0)
        let error = #expect(throws: TraceError.self) { try writer.sync() }
        #expect(error?.code == .durability)
        #expect(error?.errno == ENOSPC)
        #expect(error?.message.contains("last durable record: none") == true)
        #expect(throws: TraceError.self) { _ = try Self.append(writer, 1) }
        #expect(throws: TraceError.self) { try writer.close() }
    }

    @Test("ENOSPC under warn: a loud warning, and the run goes on")
    func warnContinues() throws {
        final class Warnings: @unchecked Sendable { var lines: [String] = []; let lock = NSLock() }
        let warnings = Warnings()
        let fd = try TraceFileIO.open("/dev/full", O_WRONLY)
        let configuration = WriterConfiguration(onDurabilityFailure: .warn, warning: { line in
            warnings.lock.lock(); warnings.lines.append(line); warnings.lock.unlock()
        })
        let writer = try TraceWriter(path: "/dev/full", fd: fd, nextSeq: 0, head: .zero, configuration: configuration)
        _ = try Self.append(writer, 0)
        try writer.sync()
        _ = try Self.append(writer, 1)
        try writer.sync()
        try writer.close()
        #expect(writer.durabilityFailure?.errno == ENOSPC)
        #expect(warnings.lines.count == 1)
        #expect(warnings.lines.first?.contains("no longer durable") == true)
    }
}
