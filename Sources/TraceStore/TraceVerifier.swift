import Glibc

/// The outcome of `verify`: what was checked and the first bad record of each damaged file.
public struct VerifyReport: Sendable {
    public var runsChecked = 0
    public var recordsChecked = 0
    /// Tampering or damage, the first bad record of each file; verification fails when not empty.
    public var problems: [TraceError] = []
    /// Runs not closed in the host index: still running, or left by a crash (`warden trace recover`).
    public var openRuns: [String] = []
    /// Hash of the host index's last record: record it off-host to detect a rewrite of the whole chain.
    public var hostHead: SHA256Digest = .zero

    public var ok: Bool { problems.isEmpty }
}

/// Verifies traces: frame checksums, canonical payloads, sequence numbers and the hash chain of
/// every file, each run's link to its `index.open` record, each closed run's record count and final
/// hash against its `index.close` record, and run files the index does not know.
public enum TraceVerifier {
    /// Verifies every run of the directory (`runID` nil) or one run.
    public static func verify(directory: TraceDirectory, runID: String? = nil) throws(TraceError) -> VerifyReport {
        var report = VerifyReport()
        let index = HostIndex(directory: directory)
        let scan = try index.scan()
        report.recordsChecked += scan.records.count
        report.hostHead = scan.head(chainStart: .zero)
        if let problem = scan.problem { report.problems.append(problem) }
        let (runs, indexProblems) = IndexedRun.collect(from: scan)
        report.problems += indexProblems
        if let runID {
            guard let run = runs.first(where: { $0.runID == runID }) else {
                throw TraceError(.notFound, "run \(runID) is not in the host index", file: index.path)
            }
            verifyRun(run, directory: directory, report: &report)
            return report
        }
        for run in runs { verifyRun(run, directory: directory, report: &report) }
        let known = Set(runs.map(\.runID))
        for file in try directory.runFiles() where !known.contains(file) {
            report.problems.append(TraceError(.chain, "run file is not in the host index", file: directory.runPath(file), offset: 0))
        }
        return report
    }

    static func verifyRun(_ run: IndexedRun, directory: TraceDirectory, report: inout VerifyReport) {
        let path = directory.runPath(run.runID)
        report.runsChecked += 1
        let scan: TraceFileScan
        do {
            scan = try TraceReader.scan(path: path, chainStart: run.openHash)
        } catch {
            let what = error.code == .notFound ? "run file is missing (the host index opened it at seq \(run.openSeq))" : error.message
            report.problems.append(TraceError(error.code == .notFound ? .chain : error.code, what, file: path, offset: error.offset))
            return
        }
        report.recordsChecked += scan.records.count
        if scan.kind != .run {
            report.problems.append(TraceError(.format, "not a run trace file", file: path, offset: 10))
            return
        }
        if let problem = scan.problem {
            if scan.ending == .tornTail && run.closed == nil {
                report.openRuns.append(run.runID)  // a crash left it; recovery may cut this tail
            }
            report.problems.append(problem)
            return
        }
        // A writer that crashed before run.start leaves only recovery's record, which is fine.
        if let first = scan.records.first?.record, first.type != .traceRecovered,
           first.type != .runStart || first.body.string("run") != run.runID {
            report.problems.append(TraceError(.chain, "first record is not the run.start of run \(run.runID)",
                                              file: path, offset: Int64(TraceFormat.headerSize), seq: first.seq))
            return
        }
        guard let closed = run.closed else {
            report.openRuns.append(run.runID)
            return
        }
        checkClose(closed, scan: scan, run: run, report: &report)
    }

    /// A closed run must hold exactly the records the index counted, ending at the hash it recorded:
    /// this catches a truncated file, records appended later, and a whole re-chained forgery.
    static func checkClose(_ closed: IndexedRun.Closed, scan: TraceFileScan, run: IndexedRun, report: inout VerifyReport) {
        let count = UInt64(scan.records.count)
        if count < closed.records {
            report.problems.append(TraceError(.chain, "run file ends after \(count) records; the host index (seq \(closed.seq)) recorded \(closed.records): records deleted or truncated",
                                              file: scan.path, offset: scan.validEnd, seq: count))
        } else if count > closed.records {
            let extra = scan.records[Int(closed.records)]
            report.problems.append(TraceError(.chain, "record after the run was closed (host index seq \(closed.seq) recorded \(closed.records) records)",
                                              file: scan.path, offset: extra.offset, seq: extra.record.seq))
        } else if let final = closed.finalHash, final != scan.head(chainStart: run.openHash) {
            report.problems.append(TraceError(.chain, "run file does not match the final hash in the host index (seq \(closed.seq)): the run was rewritten and re-chained",
                                              file: scan.path, offset: Int64(TraceFormat.headerSize), seq: 0))
        }
    }
}
