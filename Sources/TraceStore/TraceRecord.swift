import Specs

/// A record's type, e.g. `run.start`; an open set so the broker can add its own.
public struct RecordType: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    // Run files.
    public static let runStart: RecordType = "run.start"
    public static let runEnd: RecordType = "run.end"
    public static let processSpawn: RecordType = "process.spawn"
    public static let processExit: RecordType = "process.exit"
    public static let outputChunk: RecordType = "output.chunk"
    public static let outputDropped: RecordType = "output.dropped"
    public static let seccompDenial: RecordType = "seccomp.denial"
    public static let limitEvent: RecordType = "limit.event"
    public static let modelRequest: RecordType = "model.request"
    public static let toolCall: RecordType = "tool.call"
    public static let guardrailDecision: RecordType = "guardrail.decision"
    public static let traceRecovered: RecordType = "trace.recovered"
    /// Written by the supervisor's recovery after `trace.recovered`: the run's supervisor died while it ran.
    public static let runInterrupted: RecordType = "run.interrupted"
    // The host index.
    public static let indexOpen: RecordType = "index.open"
    public static let indexClose: RecordType = "index.close"
    public static let indexRecovered: RecordType = "index.recovered"

    /// Rare records that end something (a limit kill, a process exit, the run): synced at once
    /// instead of within the window. Denials and guardrail verdicts can come in storms, so they
    /// ride group commit (durable within the window); every record, these included, is durable
    /// before `TraceRecorder.finish` returns, i.e. before the run is reported finished.
    public var isSecurityCritical: Bool {
        switch rawValue {
        case "limit.event", "run.end", "process.exit": return true
        default: return false
        }
    }
}

/// One trace record: the decoded payload of a frame (layout in TraceFormat.swift).
public struct TraceRecord: Sendable, Equatable {
    public var seq: UInt64
    /// Wall-clock nanoseconds since the Unix epoch when the record was made.
    public var timestamp: UInt64
    public var type: RecordType
    /// The span this record belongs to (a run, a process, a call).
    public var span: SpanID
    /// The enclosing span; nil for a run's root span and for host index records.
    public var parent: SpanID?
    public var body: JSONObject
    /// SHA-256 of the previous frame.
    public var prev: SHA256Digest

    public init(seq: UInt64, timestamp: UInt64, type: RecordType, span: SpanID, parent: SpanID?,
                body: JSONObject, prev: SHA256Digest) {
        self.seq = seq
        self.timestamp = timestamp
        self.type = type
        self.span = span
        self.parent = parent
        self.body = body
        self.prev = prev
    }

    /// The payload: canonical JSON of the record (keys written in their sorted order).
    public func payload() -> [UInt8] {
        var encoder = CanonicalEncoder(capacity: 256)
        encode(into: &encoder)
        return encoder.bytes
    }

    /// The whole frame (length, CRC-32C, payload, trailer), built in one buffer.
    public func frame() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        appendFrame(to: &bytes)
        return bytes
    }

    /// Appends the whole frame to `bytes` (the writer's queue), encoding in place.
    public func appendFrame(to bytes: inout [UInt8]) {
        var encoder = CanonicalEncoder(capacity: 0)
        swap(&encoder.bytes, &bytes)  // move, not copy: the queue's buffer stays uniquely referenced
        let start = encoder.bytes.count
        encoder.bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        encode(into: &encoder)
        TraceFormat.sealFrame(&encoder.bytes, from: start)
        swap(&encoder.bytes, &bytes)
    }

    /// The frame with `prev` left as zeros, and the offset of its 64 hex digits in the frame:
    /// the caller encodes, the writer thread fills in the chain link (`TraceFormat.chain`).
    func unchainedFrame() -> (frame: [UInt8], prevOffset: Int) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        let prevOffset = appendUnchainedFrame(to: &bytes)
        return (bytes, prevOffset)
    }

    /// Appends the frame with `prev` left as zeros to `bytes` (the writer's pending batch, so no
    /// buffer is allocated per record); returns the offset of `prev`'s hex digits in the frame.
    func appendUnchainedFrame(to bytes: inout [UInt8]) -> Int {
        var encoder = CanonicalEncoder(capacity: 0)
        swap(&encoder.bytes, &bytes)  // move, not copy: the batch stays uniquely referenced
        let start = encoder.bytes.count
        encoder.raw("\0\0\0\0\0\0\0\0")  // length and CRC, filled in by sealFrame and chain
        let prevOffset = encode(into: &encoder, blankPrev: true) - start
        TraceFormat.sealFrame(&encoder.bytes, from: start, checksum: false)
        swap(&encoder.bytes, &bytes)
        return prevOffset
    }

    /// Writes the payload; returns where the hex digits of `prev` start in `encoder.bytes`.
    @discardableResult
    private func encode(into encoder: inout CanonicalEncoder, blankPrev: Bool = false) -> Int {
        encoder.raw("{\"body\":")
        encoder.object(body)
        // The fixed fields go through scratch memory and reach the array in one append.
        let tailStart = encoder.bytes.count
        var prevOffset = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { scratch in  // the fields below: <= 189 bytes
            var out = ScratchWriter(scratch)
            out.raw(",\"parent\":")
            if let parent { parent.withBytes { out.hexQuoted($0) } } else { out.raw("null") }
            out.raw(",\"prev\":")
            prevOffset = tailStart + out.count + 1
            if blankPrev {
                out.raw("\"0000000000000000000000000000000000000000000000000000000000000000\"")  // chain fills it in
            } else {
                prev.withBytes { out.hexQuoted($0) }
            }
            out.raw(",\"seq\":")
            out.unsigned(seq)
            out.raw(",\"span\":")
            span.withBytes { out.hexQuoted($0) }
            out.raw(",\"ts\":")
            out.unsigned(timestamp)
            out.raw(",\"type\":")
            encoder.bytes.append(contentsOf: out.written)
        }
        encoder.string(type.rawValue)
        encoder.raw("}")
        return prevOffset
    }

    static let payloadKeys: Set<String> = ["body", "parent", "prev", "seq", "span", "ts", "type"]

    /// Decodes and checks a payload: exactly the record keys, right types, and canonical bytes.
    public static func decode(payload: ArraySlice<UInt8>, file: String, offset: Int64) throws(TraceError) -> TraceRecord {
        func bad(_ message: String, seq: UInt64? = nil) -> TraceError {
            TraceError(.format, "bad record payload: " + message, file: file, offset: offset, seq: seq)
        }
        let value: JSONValue
        do { value = try TraceJSON.parse(Array(payload)) } catch { throw bad("\(error)") }
        guard case .object(let object) = value else { throw bad("not a JSON object") }
        if let extra = object.keys.first(where: { !payloadKeys.contains($0) }) { throw bad("unknown key '\(extra)'") }
        guard case .number(let seqNumber)? = object["seq"], let seq = seqNumber.uint64 else { throw bad("seq is not an unsigned integer") }
        guard case .number(let tsNumber)? = object["ts"], let ts = tsNumber.uint64 else { throw bad("ts is not an unsigned integer", seq: seq) }
        guard case .string(let type)? = object["type"], !type.isEmpty else { throw bad("type is not a string", seq: seq) }
        guard case .string(let spanHex)? = object["span"], let span = SpanID(hex: spanHex) else { throw bad("span is not 16 hex digits", seq: seq) }
        var parent: SpanID?
        switch object["parent"] {
        case .null?: parent = nil
        case .string(let hex)?:
            guard let id = SpanID(hex: hex) else { throw bad("parent is not 16 hex digits", seq: seq) }
            parent = id
        default: throw bad("parent is missing", seq: seq)
        }
        guard case .string(let prevHex)? = object["prev"], let prev = SHA256Digest(hex: prevHex) else { throw bad("prev is not 64 hex digits", seq: seq) }
        guard case .object(let body)? = object["body"] else { throw bad("body is not an object", seq: seq) }
        let record = TraceRecord(seq: seq, timestamp: ts, type: RecordType(type), span: span, parent: parent, body: body, prev: prev)
        guard record.payload().elementsEqual(payload) else { throw bad("payload is not in canonical form", seq: seq) }
        return record
    }
}
