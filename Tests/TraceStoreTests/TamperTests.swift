import Foundation
import Specs
import Testing
@testable import TraceStore

@Suite("verify catches tampering and names the first bad record")
struct TamperTests {
    /// Two finished runs; the tampering goes into the first.
    static func setUp(_ label: String) throws -> (TraceFixture, String, [UInt8], [(offset: Int, length: Int)]) {
        let fixture = try TraceFixture(label)
        let runID = try fixture.run(extra: 6)
        try fixture.run()
        let path = fixture.path(runID)
        #expect(try fixture.verify().ok)
        return (fixture, runID, try fixture.bytes(path), try fixture.frames(path))
    }

    static func firstProblem(_ fixture: TraceFixture) throws -> TraceError {
        let report = try fixture.verify()
        #expect(!report.ok)
        return try #require(report.problems.first)
    }

    @Test("a flipped byte in any record is caught at that record", arguments: [1, 4, 8])
    func flipByte(record: Int) throws {
        let (fixture, runID, bytes, frames) = try Self.setUp("flip")
        defer { fixture.remove() }
        var bad = bytes
        bad[frames[record].offset + frames[record].length / 2] ^= 0x20
        try fixture.write(fixture.path(runID), bad)
        let problem = try Self.firstProblem(fixture)
        #expect(problem.file == fixture.path(runID))
        #expect(problem.offset == Int64(frames[record].offset))
        #expect(problem.seq == UInt64(record))
        #expect(problem.message.contains("checksum"))
    }

    @Test("a deleted record is a sequence gap at its place")
    func deleteRecord() throws {
        let (fixture, runID, bytes, frames) = try Self.setUp("delete")
        defer { fixture.remove() }
        let victim = frames[3]
        try fixture.write(fixture.path(runID), Array(bytes[..<victim.offset] + bytes[(victim.offset + victim.length)...]))
        let problem = try Self.firstProblem(fixture)
        #expect(problem.offset == Int64(victim.offset))
        #expect(problem.seq == 4)
        #expect(problem.message.contains("sequence gap: expected seq 3, found 4"))
    }

    @Test("two swapped records are caught at the first of them")
    func reorder() throws {
        let (fixture, runID, bytes, frames) = try Self.setUp("reorder")
        defer { fixture.remove() }
        let a = frames[4], b = frames[5]
        let swapped = Array(bytes[..<a.offset]) + bytes[b.offset..<(b.offset + b.length)] + bytes[a.offset..<(a.offset + a.length)]
            + bytes[(b.offset + b.length)...]
        try fixture.write(fixture.path(runID), swapped)
        let problem = try Self.firstProblem(fixture)
        #expect(problem.offset == Int64(a.offset))
        #expect(problem.seq == 5)
    }

    @Test("truncation in the middle of a record and at a record boundary are both caught")
    func truncate() throws {
        let (fixture, runID, bytes, frames) = try Self.setUp("truncate")
        defer { fixture.remove() }
        try fixture.write(fixture.path(runID), Array(bytes[..<(frames[5].offset + 7)]))
        var problem = try Self.firstProblem(fixture)
        #expect(problem.offset == Int64(frames[5].offset))
        try fixture.write(fixture.path(runID), Array(bytes[..<frames[5].offset]))
        problem = try Self.firstProblem(fixture)
        #expect(problem.message.contains("records deleted or truncated"))
        #expect(problem.seq == 5)
    }

    @Test("a whole run file replaced by a re-chained forgery is caught by the host index")
    func rechainedForgery() throws {
        let (fixture, runID, bytes, _) = try Self.setUp("forgery")
        defer { fixture.remove() }
        let scan = try TraceReader.scan(bytes: bytes, path: "orig")
        var forged = TraceFormat.header(kind: .run)
        var prev = try #require(scan.records.first?.record.prev)
        for item in scan.records {
            var record = item.record
            record.prev = prev
            if record.type == .seccompDenial { record.body["syscall"] = .string("getpid") }  // hide the denial
            let frame = TraceFormat.frame(payload: record.payload())
            prev = SHA256Digest(hashing: frame)
            forged += frame
        }
        try fixture.write(fixture.path(runID), forged)
        #expect(try TraceReader.scan(path: fixture.path(runID)).problem == nil, "the forgery is internally consistent")
        let problem = try Self.firstProblem(fixture)
        #expect(problem.file == fixture.path(runID))
        #expect(problem.message.contains("re-chained"))
    }

    @Test("a record appended after the run was closed is caught")
    func appendAfterClose() throws {
        let (fixture, runID, bytes, _) = try Self.setUp("append")
        defer { fixture.remove() }
        let scan = try TraceReader.scan(bytes: bytes, path: "orig")
        let last = try #require(scan.records.last)
        let extra = TraceRecord(seq: last.record.seq + 1, timestamp: last.record.timestamp, type: "note", span: last.record.span,
                                parent: nil, body: JSONObject(), prev: last.hash)
        try fixture.write(fixture.path(runID), bytes + TraceFormat.frame(payload: extra.payload()))
        let problem = try Self.firstProblem(fixture)
        #expect(problem.seq == last.record.seq + 1)
        #expect(problem.message.contains("after the run was closed"))
    }

    @Test("a deleted run file and an unindexed one are both caught")
    func missingAndUnindexed() throws {
        let (fixture, runID, bytes, _) = try Self.setUp("missing")
        defer { fixture.remove() }
        try FileManager.default.removeItem(atPath: fixture.path(runID))
        #expect(try Self.firstProblem(fixture).message.contains("missing"))
        try fixture.write(fixture.path(runID), bytes)
        try fixture.write(fixture.directory.runPath("20990101T000000Z-0000000000000001"), bytes)
        #expect(try Self.firstProblem(fixture).message.contains("not in the host index"))
    }

    @Test("a flipped byte in the host index is caught there")
    func hostIndexFlip() throws {
        let (fixture, _, _, _) = try Self.setUp("index")
        defer { fixture.remove() }
        let path = fixture.directory.indexPath
        var bytes = try fixture.bytes(path)
        let frames = try fixture.frames(path)
        bytes[frames[1].offset + 20] ^= 0x01
        try fixture.write(path, bytes)
        let problem = try Self.firstProblem(fixture)
        #expect(problem.file == path)
        #expect(problem.offset == Int64(frames[1].offset))
    }
}
