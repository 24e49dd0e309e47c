import Glibc
import Specs

/// What a recovery did.
public struct RecoveryReport: Sendable {
    /// A torn tail that was cut: where, how much, and the file keeping the cut bytes.
    public struct Cut: Sendable {
        public var path: String
        public var offset: Int64
        public var length: Int64
        public var sha256: String
        public var tornPath: String
    }

    public var cuts: [Cut] = []
    /// Runs that were left open by a crashed writer and are now closed (status `recovered`, or the
    /// status of the `Ending` the caller gave).
    public var closedRuns: [String] = []
    /// Runs skipped because a live writer holds them.
    public var liveRuns: [String] = []
    /// Damage recovery refused to touch (anything but a torn tail).
    public var refused: [TraceError] = []
}

/// Crash recovery: cuts only a torn tail (the end of a file's last frame, with no valid frame
/// after the damage), keeps the cut bytes in a `.torn` file, and appends a record saying what was
/// cut. Damage anywhere else is refused and left for `verify` to report; recovery must never work
/// as a deletion tool (etcd's WAL repair follows the same rule).
public enum TraceRecovery {
    /// A record that ends a recovered run after `trace.recovered`, and the status its `index.close`
    /// gets instead of `recovered` (the supervisor's `run.interrupted`).
    public struct Ending: Sendable {
        public var type: RecordType
        public var body: JSONObject
        public var status: String

        public init(type: RecordType, body: JSONObject, status: String) {
            self.type = type; self.body = body; self.status = status
        }
    }

    /// Asked once per open run being closed, with the records that survived the repair; nil for none.
    public typealias Closing = (_ runID: String, _ records: [TraceRecord]) -> Ending?

    /// Repairs the host index and every run left open by a crashed writer. `closing` may add a
    /// record that says why the run ended (appended after the repair, covered by the chain).
    public static func recover(directory: TraceDirectory, closing: Closing? = nil) throws(TraceError) -> RecoveryReport {
        var report = RecoveryReport()
        let index = HostIndex(directory: directory)
        guard TraceFileIO.exists(index.path) else { return report }
        let fd = try TraceFileIO.open(index.path, O_RDWR | O_APPEND)
        defer { close(fd) }
        try FileLock.lock(fd, path: index.path)
        defer { FileLock.unlock(fd) }
        if let cut = try repairHostIndexLocked(fd: fd, index: index) { report.cuts.append(cut) }
        let scan = try TraceReader.scan(path: index.path, chainStart: .zero)
        if let problem = scan.problem {
            report.refused.append(problem)
            return report
        }
        for run in IndexedRun.collect(from: scan).runs where run.closed == nil {
            try recoverRun(run, directory: directory, indexFD: fd, index: index, closing: closing, report: &report)
        }
        return report
    }

    /// Cuts a torn tail of the host index (lock held); nil when there was none.
    static func repairHostIndexLocked(fd: Int32, index: HostIndex) throws(TraceError) -> RecoveryReport.Cut? {
        let scan = try TraceReader.scan(path: index.path, chainStart: .zero)
        guard scan.ending == .tornTail else {
            if let problem = scan.problem { throw TraceError(.unrepairable, "host index is damaged, not torn: \(problem)", file: index.path) }
            return nil
        }
        let cut = try cutTail(path: index.path, fd: fd, at: scan.validEnd)
        let tail = HostIndex.Tail(nextSeq: scan.records.last.map { $0.record.seq + 1 } ?? 0, head: scan.head(chainStart: .zero))
        _ = try index.appendLocked(fd: fd, tail: tail, type: .indexRecovered, span: SpanID.random(), body: cutBody(cut, reason: "torn tail after a crash"))
        return cut
    }

    private static func recoverRun(_ run: IndexedRun, directory: TraceDirectory, indexFD: Int32, index: HostIndex,
                                   closing: Closing?, report: inout RecoveryReport) throws(TraceError) {
        let path = directory.runPath(run.runID)
        let fd: Int32
        do { fd = try TraceFileIO.open(path, O_RDWR | O_APPEND) } catch {
            report.refused.append(TraceError(.unrepairable, "run file of open run \(run.runID) is missing", file: path))
            return
        }
        // The writer below takes the descriptor (and with it the lock) once the file is repaired.
        var owned = true
        defer { if owned { FileLock.unlock(fd); close(fd) } }
        guard try FileLock.tryLock(fd, path: path) else { report.liveRuns.append(run.runID); return }
        let scan = try TraceReader.scan(path: path, chainStart: run.openHash)
        if scan.ending == .damaged, let problem = scan.problem { report.refused.append(problem); return }
        var body = JSONObject([("reason", .string("writer stopped without closing the run"))])
        if scan.ending == .tornTail {
            let cut = try cutTail(path: path, fd: fd, at: scan.validEnd)
            report.cuts.append(cut)
            body = cutBody(cut, reason: "torn tail after a crash")
        }
        let records = scan.records.map(\.record)
        let runSpan = records.first?.span ?? SpanID.random()
        let ending = closing?(run.runID, records)
        owned = false
        let (final, count) = try appendClosing(path: path, fd: fd, after: scan, chainStart: run.openHash, span: runSpan,
                                               recovered: body, ending: ending)
        let tail = try index.readTail(indexFD)
        _ = try index.appendLocked(fd: indexFD, tail: tail, type: .indexClose, span: runSpan, body: JSONObject([
            ("run", .string(run.runID)), ("status", .string(ending?.status ?? "recovered")),
            ("records", RecordBody.int(count)), ("final_sha256", .string(final.hex)),
        ]))
        report.closedRuns.append(run.runID)
    }

    /// Appends `trace.recovered` (and the caller's ending) to the repaired file through the ordinary
    /// writer, which takes `fd`: same framing, chaining and durability (and the same trace metrics)
    /// as the records before the crash. Returns the final hash and the record count.
    private static func appendClosing(path: String, fd: Int32, after scan: TraceFileScan, chainStart: SHA256Digest, span: SpanID,
                                      recovered: JSONObject, ending: Ending?) throws(TraceError) -> (SHA256Digest, UInt64) {
        let writer = try TraceWriter(path: path, fd: fd, nextSeq: UInt64(scan.records.count), head: scan.head(chainStart: chainStart),
                                     configuration: WriterConfiguration(sync: .none))
        do throws(TraceError) {
            try writer.append(.traceRecovered, span: span, parent: nil, body: recovered)
            if let ending { try writer.append(ending.type, span: span, parent: nil, body: ending.body) }
            try writer.sync()
        } catch {
            try? writer.close()
            throw TraceError(.durability, "cannot append the recovery record: \(error.message)", file: path, errno: error.errno)
        }
        let final = writer.lastHash, count = writer.nextSequence
        try writer.close()
        return (final, count)
    }

    /// Copies bytes [offset, end) to `<path>.torn-<ns>` (synced), then truncates the file at `offset`.
    static func cutTail(path: String, fd: Int32, at offset: Int64) throws(TraceError) -> RecoveryReport.Cut {
        let size = try TraceFileIO.size(fd, path: path)
        let bytes = try TraceFileIO.read(fd, count: Int(size - offset), at: offset, path: path)
        let tornPath = path + ".torn-\(TraceClock.wallNanoseconds())"
        try TraceFileIO.createFile(tornPath, contents: bytes)
        guard ftruncate(fd, off_t(offset)) == 0 else { throw TraceError.system("ftruncate", path) }
        let code = TraceFileIO.dataSync(fd)
        if code != 0 { throw TraceError.system("fdatasync", path, errno: code) }
        if let slash = path.lastIndex(of: "/") { try TraceFileIO.syncDirectory(String(path[..<slash])) }
        return RecoveryReport.Cut(path: path, offset: offset, length: Int64(bytes.count),
                                  sha256: SHA256Digest(hashing: bytes).hex, tornPath: tornPath)
    }

    static func cutBody(_ cut: RecoveryReport.Cut, reason: String) -> JSONObject {
        JSONObject([
            ("reason", .string(reason)), ("cut_offset", RecordBody.int(cut.offset)), ("cut_bytes", RecordBody.int(cut.length)),
            ("cut_sha256", .string(cut.sha256)), ("torn_file", .string(String(cut.tornPath.split(separator: "/").last ?? ""))),
        ])
    }
}
