import Glibc

/// Appends framed, hash-chained records to one trace file with group commit.
///
/// Callers encode and chain records under a lock (so sequence numbers and `prev` hashes follow the
/// append order) and hand the frames to a queue; one writer thread writes whatever has queued up
/// in one `write` and runs `fdatasync` at the latest `window` after the oldest unsynced append.
/// `sync()` is the barrier the supervisor calls before reporting a run finished.
public final class TraceWriter: @unchecked Sendable {
    public let path: String
    public let configuration: WriterConfiguration
    private let fd: Int32
    private let lock = ConditionLock()
    private var thread: pthread_t?

    // All below guarded by `lock`.
    private var nextSeq: UInt64
    private var head: SHA256Digest
    private var pending: [UInt8] = []
    private var pendingFirstAt: UInt64 = 0
    private var appended: Int64 = -1     // last seq handed to append
    private var written: Int64 = -1      // last seq written to the file
    private var durable: Int64 = -1      // last seq known to be on disk
    private var writtenSince: UInt64?    // monotonic time of the oldest written-but-unsynced append
    private var syncRequested = false
    private var closing = false
    private var closed = false
    private var failure: TraceError?
    private var idle = false             // the writer thread waits with no deadline
    private var lastDurableType = ""
    private var typesInFlight: [(seq: Int64, type: String)] = []

    /// Takes ownership of `fd` (opened O_APPEND at the end of a valid file) and starts the writer thread.
    init(path: String, fd: Int32, nextSeq: UInt64, head: SHA256Digest, configuration: WriterConfiguration) throws(TraceError) {
        self.path = path
        self.fd = fd
        self.nextSeq = nextSeq
        self.head = head
        self.configuration = configuration
        appended = Int64(nextSeq) - 1
        written = appended
        durable = appended
        thread = try startThread { [self] in writerLoop() }
    }

    deinit {
        if !closed { _ = try? close() }
    }

    /// The hash of the last appended record (what the next one chains to).
    public var lastHash: SHA256Digest { lock.lock(); defer { lock.unlock() }; return head }
    /// The sequence number the next record gets.
    public var nextSequence: UInt64 { lock.lock(); defer { lock.unlock() }; return nextSeq }
    /// The last sequence number known durable, or nil when none is yet.
    public var durableSequence: UInt64? { lock.lock(); defer { lock.unlock() }; return durable < 0 ? nil : UInt64(durable) }
    /// The durability failure seen so far, if any (under `.warn` the writer keeps running).
    public var durabilityFailure: TraceError? { lock.lock(); defer { lock.unlock() }; return failure }

    /// Appends one record: `encode(seq, prev)` returns its whole frame. Returns the record's seq.
    /// `critical` records are synced at once instead of within the window.
    @discardableResult
    func append(type: String, critical: Bool = false,
                encode: (UInt64, SHA256Digest) throws(TraceError) -> [UInt8]) throws(TraceError) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        while pending.count >= configuration.queueCapacityBytes && failure == nil && !closing { lock.wait() }
        try checkUsable()
        let seq = nextSeq
        let frame = try encode(seq, head)
        head = SHA256Digest(hashing: frame)
        nextSeq += 1
        let wasEmpty = pending.isEmpty
        if wasEmpty { pendingFirstAt = TraceClock.monotonicNanoseconds() }
        pending.append(contentsOf: frame)
        appended = Int64(seq)
        typesInFlight.append((Int64(seq), type))
        // Wake the writer only when it has something to decide: a sync, a full batch, or a first
        // record to time; waking it per record would cost two context switches per append.
        if critical || configuration.sync == .everyRecord {
            syncRequested = true
            lock.broadcast()
        } else if (pending.count >= writeThreshold && pending.count - frame.count < writeThreshold) || (wasEmpty && idle) {
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
}

extension TraceWriter {
    /// The writer thread: write queued frames in batches and fdatasync when the window closes or a barrier asks.
    private func writerLoop() {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if failure != nil {
                // Nothing more may reach this file: a frame after a failed write would sit behind a torn one.
                pending.removeAll()
                lock.broadcast()
                if closing { return }
                lock.wait()
                continue
            }
            let now = TraceClock.monotonicNanoseconds()
            if !pending.isEmpty && (syncRequested || closing || pending.count >= writeThreshold || now >= pendingFirstAt + window) {
                writePending()
                continue
            }
            if written > durable && shouldSyncNow(now) {
                syncWritten()
                continue
            }
            if closing && pending.isEmpty { return }
            var deadline = UInt64.max
            if !pending.isEmpty { deadline = pendingFirstAt + window }
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

    /// How long a record may wait before it is written (and, under group commit, synced).
    private var window: UInt64 {
        if case .groupCommit(let window) = configuration.sync { return window }
        return 5_000_000
    }

    /// Bytes queued that make the writer write at once instead of waiting for the window.
    private var writeThreshold: Int { max(4096, min(64 << 10, configuration.queueCapacityBytes / 2)) }

    private func writePending() {
        let batch = pending
        let batchSeq = appended
        let batchFirstAt = pendingFirstAt
        pending = []
        lock.broadcast()  // room in the queue again
        lock.unlock()
        let code = TraceFileIO.writeAll(fd, batch)
        lock.lock()
        if code != 0 { return fail("write", code) }
        written = batchSeq
        if writtenSince == nil { writtenSince = batchFirstAt }
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
        let code = TraceFileIO.dataSync(fd)
        lock.lock()
        if code != 0 { return fail("fdatasync", code) }
        durable = target
        writtenSince = nil
        if let index = typesInFlight.lastIndex(where: { $0.seq <= target }) {
            lastDurableType = typesInFlight[index].type
            typesInFlight.removeFirst(index + 1)
        }
        lock.broadcast()
    }

    /// Records the first durability failure; under `.warn` prints it and lets waiters go on.
    private func fail(_ call: String, _ code: Int32) {
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
