/// A record as found in a file: where it is, its frame hash, and its decoded payload.
public struct ScannedRecord: Sendable {
    public var offset: Int64
    public var frameLength: Int
    public var hash: SHA256Digest
    public var record: TraceRecord
}

/// The result of reading one trace file front to back, stopping at the first problem.
public struct TraceFileScan: Sendable {
    /// How the scan ended.
    public enum Ending: Sendable, Equatable {
        /// Every byte belongs to a valid record.
        case clean
        /// The file ends inside a frame, or the bad bytes start a tail with no valid frame after them:
        /// what a crash leaves, the only thing recovery may cut.
        case tornTail
        /// Damage with valid frames after it, or a record that breaks the chain: never repaired.
        case damaged
    }

    public var path: String
    public var kind: TraceFileKind
    public var records: [ScannedRecord]
    /// Offset just past the last valid record.
    public var validEnd: Int64
    public var fileSize: Int64
    public var ending: Ending
    /// The first problem (file, offset, seq, what), nil when clean.
    public var problem: TraceError?

    /// Hash of the last valid record; `chainStart` when there is none.
    public func head(chainStart: SHA256Digest) -> SHA256Digest { records.last?.hash ?? chainStart }
}

/// Reads trace files: frames, payloads, sequence numbers and the chain inside the file.
public enum TraceReader {
    /// Reads `path`; throws only when the file cannot be read or its header is wrong.
    /// `chainStart` is what record 0's `prev` must be, when known (a run's `index.open` hash).
    public static func scan(path: String, chainStart: SHA256Digest? = nil) throws(TraceError) -> TraceFileScan {
        let bytes = try TraceFileIO.readFile(path)
        return try scan(bytes: bytes, path: path, chainStart: chainStart)
    }

    /// The same over bytes already in memory (fuzz tests, recovery).
    public static func scan(bytes: [UInt8], path: String, chainStart: SHA256Digest? = nil) throws(TraceError) -> TraceFileScan {
        let kind = try TraceFormat.parseHeader(bytes[...], file: path)
        var result = TraceFileScan(path: path, kind: kind, records: [], validEnd: Int64(TraceFormat.headerSize),
                                   fileSize: Int64(bytes.count), ending: .clean, problem: nil)
        var offset = TraceFormat.headerSize
        var expectedPrev = chainStart
        while offset < bytes.count {
            switch TraceFormat.scanFrame(bytes, at: offset) {
            case .incomplete(let why):
                result.ending = .tornTail
                result.problem = TraceError(.format, "torn tail: " + why, file: path, offset: Int64(offset))
                return result
            case .corrupt(let why):
                result.ending = hasValidFrame(bytes, after: offset) ? .damaged : .tornTail
                result.problem = TraceError(.format, why, file: path, offset: Int64(offset),
                                            seq: result.records.last.map { $0.record.seq + 1 })
                return result
            case .frame(let payload, let end):
                let record: TraceRecord
                do {
                    record = try TraceRecord.decode(payload: bytes[payload], file: path, offset: Int64(offset))
                } catch {
                    result.ending = .damaged
                    result.problem = error
                    return result
                }
                let expectedSeq = result.records.last.map { $0.record.seq + 1 } ?? 0
                if let problem = chainProblem(record, expectedSeq: expectedSeq, expectedPrev: expectedPrev,
                                              path: path, offset: Int64(offset)) {
                    result.ending = .damaged
                    result.problem = problem
                    return result
                }
                let hash = SHA256Digest(hashing: bytes[offset..<end])
                result.records.append(ScannedRecord(offset: Int64(offset), frameLength: end - offset, hash: hash, record: record))
                expectedPrev = hash
                offset = end
                result.validEnd = Int64(end)
            }
        }
        return result
    }

    static func chainProblem(_ record: TraceRecord, expectedSeq: UInt64, expectedPrev: SHA256Digest?,
                             path: String, offset: Int64) -> TraceError? {
        if record.seq != expectedSeq {
            let what = record.seq > expectedSeq ? "sequence gap: expected seq \(expectedSeq), found \(record.seq)"
                : "sequence out of order: expected seq \(expectedSeq), found \(record.seq)"
            return TraceError(.chain, what, file: path, offset: offset, seq: record.seq)
        }
        if let expectedPrev, record.prev != expectedPrev {
            let what = expectedSeq == 0 ? "first record does not chain to its host index entry"
                : "hash chain broken: prev does not match the previous record's hash"
            return TraceError(.chain, what, file: path, offset: offset, seq: record.seq)
        }
        return nil
    }

    /// Whether any offset after `start` begins a frame that checks out: then the bad bytes are not
    /// a torn tail but damage in the middle, which recovery must refuse to cut.
    static func hasValidFrame(_ bytes: [UInt8], after start: Int) -> Bool {
        var offset = start + 1
        while offset + TraceFormat.frameOverhead <= bytes.count {
            if case .frame = TraceFormat.scanFrame(bytes, at: offset) { return true }
            offset += 1
        }
        return false
    }
}
