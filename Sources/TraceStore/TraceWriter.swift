import HostOS
import Glibc
import Specs

/// Appends framed, hash-chained records to one trace file with group commit.
///
/// `append` assigns the sequence number, encodes the record's canonical JSON frame with `prev` left
/// blank, and queues it (bounded; it blocks when full). One writer thread takes everything queued,
/// links it into the chain (fills in `prev`, CRC-32C, SHA-256: this part must run in order), writes
/// it with one `write`, and runs `fdatasync` at the latest `window` after the oldest unsynced append,
/// or at once for critical records and `sync()` barriers. Splitting the work this way lets the
/// caller's encoding overlap the writer's hashing.
public final class TraceWriter: @unchecked Sendable {
    public let path: String
    public let configuration: WriterConfiguration
    private let fd: Int32
    private let lock = ConditionLock()
    private var thread: pthread_t?

    /// A record waiting for the writer thread: where its frame lies in `pending`, encoded by the
    /// appender with `prev` still zero, which the writer fills in (the chain must be built in
    /// order, the JSON need not). Plain integers: queueing a record allocates and retains nothing.
    struct Queued {
        var seq: UInt64
        var end: Int
        var prevOffset: Int
    }

    // Guarded by `lock`.
    private var nextSeq: UInt64
    private var head: SHA256Digest           // hash of the last written record
    private var queue: [Queued] = []
    private var pending: [UInt8] = []        // the queued records' frames, back to back
    private var queuedLastType = ""
    private var queueFirstAt: UInt64 = 0
    private var appended: Int64 = -1         // last seq handed to append
    private var written: Int64 = -1          // last seq written to the file
    private var durable: Int64 = -1          // last seq known to be on disk
    private var writtenSince: UInt64?        // monotonic time of the oldest written-but-unsynced append
    private var syncRequested = false
    private var closing = false
    private var closed = false
    private var failure: TraceError?
    private var idle = false                 // the writer thread waits with no deadline
    private var writtenLastType = ""
    private var lastDurableType = ""

    // Owned by the writer thread.
    private var chainHead: SHA256Digest
    private var buffer: [UInt8] = []         // swapped with `pending`: the two buffers take turns
    private var batch: [Queued] = []         // swapped with `queue`

    /// Takes ownership of `fd` (opened O_APPEND at the end of a valid file) and starts the writer thread.
    init(path: String, fd: Int32, nextSeq: UInt64, head: SHA256Digest, configuration: WriterConfiguration) throws(TraceError) {
        self.path = path
        self.fd = fd
        self.nextSeq = nextSeq
        self.head = head
        self.chainHead = head
        self.configuration = configuration
        appended = Int64(nextSeq) - 1
        written = appended
        durable = appended
        buffer.reserveCapacity(256 << 10)
        pending.reserveCapacity(256 << 10)
        thread = try startThread { [self] in writerLoop() }
    }

    deinit {
        if !closed { _ = try? close() }
    }

    /// The hash of the last record written (after `sync()`: of the last record appended).
    public var lastHash: SHA256Digest { lock.lock(); defer { lock.unlock() }; return head }
    /// The sequence number the next record gets.
    public var nextSequence: UInt64 { lock.lock(); defer { lock.unlock() }; return nextSeq }
    /// The last sequence number known durable, or nil when none is yet.
    public var durableSequence: UInt64? { lock.lock(); defer { lock.unlock() }; return durable < 0 ? nil : UInt64(durable) }
    /// The durability failure seen so far, if any (under `.warn` the writer keeps running).
    public var durabilityFailure: TraceError? { lock.lock(); defer { lock.unlock() }; return failure }

    /// Queues one record and returns its seq. `critical` records are synced at once, not within the window.
    @discardableResult
    func append(_ type: RecordType, span: SpanID, parent: SpanID?, body: JSONObject, critical: Bool = false) throws(TraceError) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        while queue.count >= configuration.queueCapacity && failure == nil && !closing {
            syncRequested = syncRequested || critical
            lock.broadcast()
            lock.wait()
        }
        try checkUsable()
        let seq = nextSeq
        nextSeq += 1
        let wasEmpty = queue.isEmpty
        if wasEmpty { queueFirstAt = TraceClock.monotonicNanoseconds() }
        let prevOffset = TraceRecord(seq: seq, timestamp: TraceClock.wallNanoseconds(), type: type, span: span, parent: parent,
                                     body: body, prev: .zero).appendUnchainedFrame(to: &pending)
        queue.append(Queued(seq: seq, end: pending.count, prevOffset: prevOffset))
        queuedLastType = type.rawValue
        appended = Int64(seq)
        // Wake the writer only when it has something to decide: a sync, a full batch, or a first
        // record to time; waking it per record would cost two context switches per append.
        if critical || configuration.sync == .everyRecord {
            syncRequested = true
            lock.broadcast()
        } else if queue.count == batchRecords || (wasEmpty && idle) {
            lock.broadcast()
        }
        if configuration.sync == .everyRecord { try waitDurable(Int64(seq)) }
        return seq
    }

    /// Barrier: returns once every record appended so far is durable (or throws under fail-closed).
    public func sync() throws(TraceError) {
        lock.lock()
        defer { lock.unlock() }
        if let failure, configuration.onDurabilityFailure == .failClosed { throw failure }
        syncRequested = true
        lock.broadcast()
        try waitDurable(appended)
    }

    /// Syncs what was appended, stops the writer thread and closes the file.
    public func close() throws(TraceError) {
        lock.lock()
        if closed { lock.unlock(); return }
        closing = true
        syncRequested = true
        lock.broadcast()
        lock.unlock()
        if let thread { pthread_join(thread, nil) }
        lock.lock()
        closed = true
        let outcome = failure
        lock.unlock()
        Glibc.close(fd)
        if let outcome, configuration.onDurabilityFailure == .failClosed { throw outcome }
    }

    private func checkUsable() throws(TraceError) {
        if closing || closed { throw TraceError(.closed, "the trace writer is closed", file: path) }
        if let failure, configuration.onDurabilityFailure == .failClosed { throw failure }
    }

    private func waitDurable(_ seq: Int64) throws(TraceError) {
        while durable < seq && failure == nil { lock.wait() }
        if let failure, configuration.onDurabilityFailure == .failClosed { throw failure }
    }

    /// How long a record may wait before it is written (and, under group commit, synced).
    var window: UInt64 {
        if case .groupCommit(let window) = configuration.sync { return window }
        return 5_000_000
    }

    /// Queued records that make the writer start at once instead of waiting for the window.
    var batchRecords: Int { max(1, min(256, configuration.queueCapacity / 2)) }
}

extension TraceWriter {
    /// The writer thread: encode and write queued records in batches; fdatasync when the window
    /// closes or a barrier asks.
    private func writerLoop() {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if failure != nil {
                // Nothing more may reach this file: a frame after a failed write would sit behind a torn one.
                queue.removeAll()
                pending.removeAll(keepingCapacity: true)
                lock.broadcast()
                if closing { return }
                lock.wait()
                continue
            }
            let now = TraceClock.monotonicNanoseconds()
            if !queue.isEmpty && (syncRequested || closing || queue.count >= batchRecords || now >= queueFirstAt + window) {
                writeQueued()
                continue
            }
            if written > durable && shouldSyncNow(now) {
                syncWritten()
                continue
            }
            if closing && queue.isEmpty { return }
            var deadline = UInt64.max
            if !queue.isEmpty { deadline = queueFirstAt + window }
            if written > durable, case .groupCommit = configuration.sync, let since = writtenSince { deadline = min(deadline, since + window) }
            if deadline == UInt64.max {
                idle = true
                lock.wait()
                idle = false
            } else {
                lock.wait(untilMonotonic: deadline)
            }
        }
    }

    /// Takes the queue, encodes and chains it outside the lock, writes it in one call.
    /// Takes the queue (swapping buffers, no copy), chains it in place outside the lock, writes
    /// it with one call.
    private func writeQueued() {
        swap(&batch, &queue)
        swap(&buffer, &pending)
        let firstAt = queueFirstAt
        let lastType = queuedLastType
        lock.broadcast()  // room in the queue again
        lock.unlock()
        var start = 0
        for item in batch {
            chainHead = TraceFormat.chain(&buffer, frameAt: start, end: item.end, prevOffset: item.prevOffset, prev: chainHead)
            start = item.end
        }
        let code = TraceFileIO.writeAll(fd, buffer)
        if code == 0 { TraceMetrics.counters(.run).wrote(records: batch.count, bytes: buffer.count) }
        let last = batch[batch.count - 1].seq
        batch.removeAll(keepingCapacity: true)
        buffer.removeAll(keepingCapacity: true)
        lock.lock()
        if code != 0 { return fail("write", code) }
        head = chainHead
        written = Int64(last)
        writtenLastType = lastType
        if writtenSince == nil { writtenSince = firstAt }
    }

    private func shouldSyncNow(_ now: UInt64) -> Bool {
        if syncRequested || closing { return true }
        switch configuration.sync {
        case .none: return false
        case .everyRecord: return true
        case .groupCommit(let window): return now >= (writtenSince ?? now) + window
        }
    }

    private func syncWritten() {
        let target = written
        syncRequested = false
        lock.unlock()
        let started = TraceClock.monotonicNanoseconds()
        let code = TraceFileIO.dataSync(fd)
        if code == 0 { TraceMetrics.counters(.run).synced(nanoseconds: TraceClock.monotonicNanoseconds() - started) }
        lock.lock()
        if code != 0 { return fail("fdatasync", code) }
        durable = target
        writtenSince = nil
        if target == written { lastDurableType = writtenLastType }
        lock.broadcast()
    }

    /// Records the first durability failure; under `.warn` prints it and lets waiters go on.
    private func fail(_ call: String, _ code: Int32) {
        TraceMetrics.counters(.run).failed()
        let last = durable < 0 ? "none" : "seq \(durable) (\(lastDurableType))"
        let error = TraceError(.durability, "\(call) failed; the trace cannot be made durable; last durable record: \(last)",
                               file: path, seq: durable < 0 ? nil : UInt64(durable), errno: code)
        failure = error
        if configuration.onDurabilityFailure == .warn {
            configuration.warning("trace records are no longer durable, the run continues unaudited: \(error)")
            durable = appended  // waiters return: nothing more can be made durable
        }
        lock.broadcast()
    }
}
