import Foundation
import Specs
import Testing
@testable import TraceStore

/// The caller's ending record (the supervisor's `run.interrupted`) and the trace store's own figures.
@Suite("recovery endings and trace metrics")
struct RecoveryEndingTests {
    @Test("a torn run ends with trace.recovered then the caller's record, closed with its status; the chain verifies",
          arguments: [false, true])
    func endingAfterRepair(torn: Bool) throws {
        let (fixture, runID) = try RecoveryTests.crashedRun("ending")
        defer { fixture.remove() }
        var original = try fixture.bytes(fixture.path(runID))
        let last = try #require(try fixture.frames(fixture.path(runID)).last)
        if torn { original = Array(original[..<(last.offset + last.length / 2)]) }
        try fixture.write(fixture.path(runID), original)
        var asked: [(String, Int)] = []
        let report = try TraceRecovery.recover(directory: fixture.directory) { id, records in
            asked.append((id, records.count))
            return TraceRecovery.Ending(type: .runInterrupted, body: JSONObject([("run", .string(id))]), status: "interrupted")
        }
        #expect(report.closedRuns == [runID] && report.cuts.count == (torn ? 1 : 0))
        // run.start + 6 records, less the torn one: what survived the repair is what the caller saw.
        #expect(asked.map(\.0) == [runID] && asked.map(\.1) == [torn ? 6 : 7])
        let records = try fixture.directory.readRun(runID).records.map(\.record)
        #expect(records.suffix(2).map(\.type) == [.traceRecovered, .runInterrupted])
        #expect(records.last?.body.string("run") == runID && records.last?.seq == UInt64(records.count - 1))
        #expect(records.last?.span == records.first?.span, "the ending belongs to the run's root span")
        let verify = try fixture.verify()
        #expect(verify.ok && verify.openRuns.isEmpty, "\(verify.problems)")
        let closed = try #require(try fixture.directory.listRuns().first?.closed)
        #expect(closed.status == "interrupted" && closed.records == UInt64(records.count))
    }

    @Test("a run the caller gives no ending keeps the plain recovered close")
    func noEnding() throws {
        let (fixture, runID) = try RecoveryTests.crashedRun("no-ending")
        defer { fixture.remove() }
        _ = try TraceRecovery.recover(directory: fixture.directory) { _, _ in nil }
        #expect(try fixture.directory.readRun(runID).records.last?.record.type == .traceRecovered)
        #expect(try fixture.directory.listRuns().first?.closed?.status == "recovered")
        #expect(try fixture.verify().ok)
    }

    @Test("sync latency bounds and sums print as plain decimal seconds", arguments: [
        (UInt64(0), "0"), (25_000, "0.000025"), (1_000_000, "0.001"), (2_500_000_000, "2.5"), (10_000_000_000, "10"), (1, "0.000000001"),
    ])
    func seconds(nanoseconds: UInt64, text: String) {
        #expect(TraceMetrics.seconds(nanoseconds: nanoseconds) == text)
    }

    @Test("a recorded run adds its records and bytes to the run-file figures, and its syncs to the histogram")
    func figuresGrow() throws {
        let fixture = try TraceFixture("metrics")
        defer { fixture.remove() }
        // Other tests write traces in this process at the same time: the figures only grow, by at least this run.
        let before = TraceMetrics.snapshot(.run), indexBefore = TraceMetrics.snapshot(.index)
        let runID = try fixture.run(extra: 20)
        let after = TraceMetrics.snapshot(.run), indexAfter = TraceMetrics.snapshot(.index)
        let records = UInt64(try fixture.directory.readRun(runID).records.count)
        let bytes = UInt64(try fixture.bytes(fixture.path(runID)).count - TraceFormat.headerSize)
        #expect(after.records - before.records >= records)
        #expect(after.bytes - before.bytes >= bytes)
        #expect(after.syncCount - before.syncCount >= 2, "run.start's barrier and finish's")
        #expect(after.syncBuckets.count == TraceMetrics.syncBoundsNanoseconds.count + 1)
        #expect(indexAfter.records - indexBefore.records >= 2 && indexAfter.syncCount - indexBefore.syncCount >= 2, "open and close")
    }
}
