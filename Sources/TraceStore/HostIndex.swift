import Glibc
import Specs

/// The host index: a framed, chained file of `index.open` / `index.close` / `index.recovered`
/// records, one chain for every run on the host. Appends lock the file, read only its tail
/// (the frame trailer gives the last frame's start), append one record and fdatasync, so the cost
/// of starting a run does not grow with history.
public struct HostIndex: Sendable {
    public let directory: TraceDirectory
    public var path: String { directory.indexPath }

    public init(directory: TraceDirectory) { self.directory = directory }

    /// The next seq and the hash of the last record, read from the end of the file.
    struct Tail { var nextSeq: UInt64; var head: SHA256Digest }

    /// Appends one index record and makes it durable; returns its hash.
    @discardableResult
    func append(type: RecordType, span: SpanID, body: JSONObject) throws(TraceError) -> SHA256Digest {
        try directory.create()
        let fd = try TraceFileIO.open(path, O_RDWR | O_CREAT | O_APPEND)
        defer { close(fd) }
        try FileLock.lock(fd, path: path)
        defer { FileLock.unlock(fd) }
        var tail: Tail
        do {
            tail = try readTail(fd)
        } catch let error where error.code == .format {
            // A torn tail from a crash: repair it (only a torn tail is ever cut), then read again.
            _ = try TraceRecovery.repairHostIndexLocked(fd: fd, index: self)
            tail = try readTail(fd)
        }
        return try appendLocked(fd: fd, tail: tail, type: type, span: span, body: body)
    }

    func appendLocked(fd: Int32, tail: Tail, type: RecordType, span: SpanID, body: JSONObject) throws(TraceError) -> SHA256Digest {
        let record = TraceRecord(seq: tail.nextSeq, timestamp: TraceClock.wallNanoseconds(), type: type,
                                 span: span, parent: nil, body: body, prev: tail.head)
        let frame = TraceFormat.frame(payload: record.payload())
        let counters = TraceMetrics.counters(.index)
        var code = TraceFileIO.writeAll(fd, frame)
        if code == 0 {
            counters.wrote(records: 1, bytes: frame.count)
            let started = TraceClock.monotonicNanoseconds()
            code = TraceFileIO.dataSync(fd)
            if code == 0 { counters.synced(nanoseconds: TraceClock.monotonicNanoseconds() - started) }
        }
        if code != 0 {
            counters.failed()
            throw TraceError(.durability, "cannot append to the host index", file: path, errno: code)
        }
        return SHA256Digest(hashing: frame)
    }

    /// Reads the tail; writes the header first if the file is empty.
    func readTail(_ fd: Int32) throws(TraceError) -> Tail {
        let size = try TraceFileIO.size(fd, path: path)
        if size == 0 {
            let code = TraceFileIO.writeAll(fd, TraceFormat.header(kind: .hostIndex))
            if code != 0 { throw TraceError.system("write", path, errno: code) }
            try TraceFileIO.syncDirectory(directory.path)
            return Tail(nextSeq: 0, head: .zero)
        }
        let header = try TraceFileIO.read(fd, count: TraceFormat.headerSize, at: 0, path: path)
        guard try TraceFormat.parseHeader(header[...], file: path) == .hostIndex else {
            throw TraceError(.invalidArgument, "not a host index file", file: path, offset: 0)
        }
        if size == Int64(TraceFormat.headerSize) { return Tail(nextSeq: 0, head: .zero) }
        let lengthBytes = try TraceFileIO.read(fd, count: 4, at: size - 4, path: path)
        let length = Int64(TraceFormat.read32(lengthBytes[...], 0))
        let start = size - Int64(TraceFormat.frameOverhead) - length
        guard length <= Int64(TraceFormat.maxPayload), start >= Int64(TraceFormat.headerSize) else {
            throw TraceError(.format, "host index does not end with a whole frame", file: path, offset: size)
        }
        let frame = try TraceFileIO.read(fd, count: Int(size - start), at: start, path: path)
        guard case .frame(let payload, let end) = TraceFormat.scanFrame(frame, at: 0), end == frame.count else {
            throw TraceError(.format, "host index does not end with a whole frame", file: path, offset: start)
        }
        let record = try TraceRecord.decode(payload: frame[payload], file: path, offset: start)
        return Tail(nextSeq: record.seq + 1, head: SHA256Digest(hashing: frame))
    }

    /// Reads the whole index (verification, listing).
    public func scan() throws(TraceError) -> TraceFileScan {
        guard TraceFileIO.exists(path) else {
            return TraceFileScan(path: path, kind: .hostIndex, records: [], validEnd: 0, fileSize: 0, ending: .clean, problem: nil)
        }
        let scan = try TraceReader.scan(path: path, chainStart: .zero)
        guard scan.kind == .hostIndex else { throw TraceError(.format, "not a host index file", file: path, offset: 0) }
        return scan
    }
}

/// What the host index says about one run.
public struct IndexedRun: Sendable {
    public var runID: String
    public var agent: String
    public var traceID: String
    public var startNanoseconds: UInt64
    /// Hash of the `index.open` record: what the run's first record chains to.
    public var openHash: SHA256Digest
    public var openSeq: UInt64
    /// From `index.close`, when the run was closed (normally or by recovery).
    public var closed: Closed?

    public struct Closed: Sendable {
        public var seq: UInt64
        public var status: String
        public var records: UInt64
        public var finalHash: SHA256Digest?
        public var endNanoseconds: UInt64
    }

    /// Runs in index order, from a scan of the host index; problems name the index record.
    public static func collect(from scan: TraceFileScan) -> (runs: [IndexedRun], problems: [TraceError]) {
        var runs: [IndexedRun] = []
        var position: [String: Int] = [:]
        var problems: [TraceError] = []
        for item in scan.records {
            let body = item.record.body
            func bad(_ what: String) { problems.append(TraceError(.chain, what, file: scan.path, offset: item.offset, seq: item.record.seq)) }
            let run = body.string("run") ?? ""
            if item.record.type != .indexRecovered && !RunID.isValid(run) { bad("index record without a valid run id"); continue }
            switch item.record.type {
            case .indexOpen:
                if position[run] != nil { bad("run \(run) opened twice"); continue }
                position[run] = runs.count
                runs.append(IndexedRun(runID: run, agent: body.string("agent") ?? "", traceID: body.string("trace_id") ?? "",
                                       startNanoseconds: item.record.timestamp, openHash: item.hash,
                                       openSeq: item.record.seq, closed: nil))
            case .indexClose:
                guard let at = position[run] else { bad("run \(run) closed but never opened"); continue }
                if runs[at].closed != nil { bad("run \(run) closed twice"); continue }
                runs[at].closed = Closed(seq: item.record.seq, status: body.string("status") ?? "",
                                         records: body.uint("records") ?? 0,
                                         finalHash: body.string("final_sha256").flatMap { SHA256Digest(hex: $0) },
                                         endNanoseconds: item.record.timestamp)
            case .indexRecovered: break
            default: bad("unexpected record type \(item.record.type) in the host index")
            }
        }
        return (runs, problems)
    }
}

extension JSONObject {
    /// The string member `key`, or nil.
    func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    /// The unsigned integer member `key`, or nil.
    func uint(_ key: String) -> UInt64? {
        if case .number(let value)? = self[key] { return value.uint64 }
        return nil
    }

    /// The signed integer member `key`, or nil.
    func int(_ key: String) -> Int64? {
        if case .number(let value)? = self[key] { return value.int64 }
        return nil
    }

    func bool(_ key: String) -> Bool {
        if case .bool(let value)? = self[key] { return value }
        return false
    }
}
