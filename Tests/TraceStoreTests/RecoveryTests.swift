import Foundation
import Specs
import Testing
@testable import TraceStore

@Suite("crash recovery cuts only torn tails")
struct RecoveryTests {
    /// A directory holding an open run, as a crashed writer leaves it: the files copied mid-run.
    static func crashedRun(_ label: String) throws -> (TraceFixture, String) {
        let live = try TraceFixture(label + "-live")
        defer { live.remove() }
        let recorder = try TraceRecorder.start(TraceFixture.start(), directory: live.directory)
        for i in 0..<6 { try recorder.append("test.record", span: recorder.runSpan, parent: nil, body: JSONObject([("i", .number(JSONNumber(i)))])) }
        try recorder.sync()
        let crashed = try TraceFixture(label)
        for name in try FileManager.default.contentsOfDirectory(atPath: live.directory.path) {
            try FileManager.default.copyItem(atPath: live.directory.path + "/" + name, toPath: crashed.directory.path + "/" + name)
        }
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        return (crashed, recorder.runID)
    }

    @Test("a torn last record is cut at every offset, kept aside, recorded, and the run verifies")
    func tornAtEveryOffset() throws {
        let (template, runID) = try Self.crashedRun("torn")
        defer { template.remove() }
        let original = try template.bytes(template.path(runID))
        let last = try #require(try template.frames(template.path(runID)).last)
        for cut in stride(from: last.offset + 1, to: last.offset + last.length, by: 5) {
            let fixture = try TraceFixture("torn-case")
            defer { fixture.remove() }
            try fixture.write(fixture.directory.indexPath, try template.bytes(template.directory.indexPath))
            try fixture.write(fixture.path(runID), Array(original[..<cut]))
            let report = try TraceRecovery.recover(directory: fixture.directory)
            #expect(report.refused.isEmpty && report.closedRuns == [runID])
            let piece = try #require(report.cuts.first)
            #expect(piece.offset == Int64(last.offset) && piece.length == Int64(cut - last.offset))
            #expect(try fixture.bytes(piece.tornPath) == Array(original[last.offset..<cut]))
            let repaired = try fixture.bytes(fixture.path(runID))
            #expect(Array(repaired[..<last.offset]) == Array(original[..<last.offset]), "nothing but the torn tail is cut")
            let records = try fixture.directory.readRun(runID).records.map(\.record)
            #expect(records.last?.type == .traceRecovered && records.last?.body.uint("cut_bytes") == UInt64(cut - last.offset))
            #expect(try fixture.verify().ok)
        }
    }

    @Test("a run left open at a record boundary is closed without cutting anything")
    func cleanCrash() throws {
        let (fixture, runID) = try Self.crashedRun("clean")
        defer { fixture.remove() }
        let before = try fixture.bytes(fixture.path(runID))
        #expect(try fixture.verify().openRuns == [runID])
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.cuts.isEmpty && report.closedRuns == [runID])
        #expect(Array(try fixture.bytes(fixture.path(runID)).prefix(before.count)) == before)
        let verify = try fixture.verify()
        #expect(verify.ok && verify.openRuns.isEmpty)
        let status = try fixture.directory.listRuns().first?.closed?.status
        #expect(status == "recovered")
    }

    @Test("zeros after the last record (a crash after the size grew) are a torn tail")
    func zeroTail() throws {
        let (fixture, runID) = try Self.crashedRun("zeros")
        defer { fixture.remove() }
        try fixture.write(fixture.path(runID), try fixture.bytes(fixture.path(runID)) + [UInt8](repeating: 0, count: 4096))
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.cuts.first?.length == 4096)
        #expect(try fixture.verify().ok)
    }

    @Test("damage in the middle is refused and the file is left byte for byte")
    func midFileRefused() throws {
        let (fixture, runID) = try Self.crashedRun("mid")
        defer { fixture.remove() }
        var bytes = try fixture.bytes(fixture.path(runID))
        let frames = try fixture.frames(fixture.path(runID))
        bytes[frames[2].offset + 10] ^= 0x04
        try fixture.write(fixture.path(runID), bytes)
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.cuts.isEmpty && report.closedRuns.isEmpty)
        #expect(report.refused.first?.offset == Int64(frames[2].offset))
        #expect(try fixture.bytes(fixture.path(runID)) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path).allSatisfy { !$0.contains(".torn") })
    }

    @Test("a closed run is never cut, even with a damaged tail")
    func closedRunUntouched() throws {
        let fixture = try TraceFixture("closed")
        defer { fixture.remove() }
        let runID = try fixture.run()
        let bytes = try fixture.bytes(fixture.path(runID))
        try fixture.write(fixture.path(runID), Array(bytes.dropLast(3)))
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.cuts.isEmpty)
        #expect(try fixture.bytes(fixture.path(runID)) == Array(bytes.dropLast(3)))
        #expect(try !fixture.verify().ok)
    }

    @Test("a live run (its writer holds the lock) is skipped")
    func liveRunSkipped() throws {
        let fixture = try TraceFixture("live")
        defer { fixture.remove() }
        let recorder = try TraceRecorder.start(TraceFixture.start(), directory: fixture.directory)
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.liveRuns == [recorder.runID] && report.closedRuns.isEmpty)
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        #expect(try fixture.verify().ok)
    }

    @Test("a torn host index is repaired when the next run starts, and the repair is recorded")
    func hostIndexTorn() throws {
        let fixture = try TraceFixture("index-torn")
        defer { fixture.remove() }
        try fixture.run()
        let index = try fixture.bytes(fixture.directory.indexPath)
        try fixture.write(fixture.directory.indexPath, index + Array(index[16..<40]))
        try fixture.run()
        let types = try HostIndex(directory: fixture.directory).scan().records.map(\.record.type)
        #expect(types == [.indexOpen, .indexClose, .indexRecovered, .indexOpen, .indexClose])
        #expect(try fixture.verify().ok)
    }

    @Test("a writer that died before run.start (header only) is closed by recovery and verifies")
    func headerOnly() throws {
        let fixture = try TraceFixture("header-only")
        defer { fixture.remove() }
        try fixture.directory.create()
        let runID = RunID.make()
        try fixture.write(fixture.path(runID), TraceFormat.header(kind: .run))
        try HostIndex(directory: fixture.directory).append(type: .indexOpen, span: SpanID.random(), body: JSONObject([
            ("run", .string(runID)), ("agent", .string("x")), ("trace_id", .string(TraceID.random().hex)),
        ]))
        let report = try TraceRecovery.recover(directory: fixture.directory)
        #expect(report.closedRuns == [runID] && report.cuts.isEmpty)
        let verify = try fixture.verify()
        #expect(verify.ok, "\(verify.problems)")
    }
}
