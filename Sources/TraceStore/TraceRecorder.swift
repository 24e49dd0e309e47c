import HostOS
import Glibc
import Specs

/// Settings the supervisor passes when it starts recording a run.
public struct RecorderConfiguration: Sendable {
    public var writer: WriterConfiguration
    /// Bytes of stdout + stderr kept per run; the rest is counted in `output.dropped` records.
    public var outputLimitBytes: UInt64
    /// Largest single `output.chunk` record body.
    public var chunkBytes: Int

    public init(writer: WriterConfiguration = WriterConfiguration(), outputLimitBytes: UInt64 = 1 << 20, chunkBytes: Int = 16 << 10) {
        self.writer = writer
        self.outputLimitBytes = outputLimitBytes
        self.chunkBytes = chunkBytes
    }
}

/// Which output stream a chunk came from.
public enum OutputStream: String, Sendable {
    case stdout, stderr
}

/// Records one run: the API `SandboxRun` (and later the broker) calls. Spans nest run > process > call.
///
/// Thread-safe: output pumps, the seccomp audit thread and the run loop may call it concurrently;
/// the writer orders records by append. `finish` syncs everything before the run is reported.
public final class TraceRecorder: @unchecked Sendable {
    public let runID: String
    public let traceID: TraceID
    /// The run's root span.
    public let runSpan: SpanID
    public let directory: TraceDirectory
    private let writer: TraceWriter
    private let fd: Int32
    private let configuration: RecorderConfiguration
    private let lock = ConditionLock()
    private var outputKept: [String: UInt64] = [:]
    private var outputDropped: [String: UInt64] = [:]
    private var outputOffset: [String: UInt64] = [:]
    private var finished = false

    /// Opens the run in the host index, creates its file and records `run.start` (synced).
    public static func start(_ start: RunStart, directory: TraceDirectory,
                             configuration: RecorderConfiguration = RecorderConfiguration()) throws(TraceError) -> TraceRecorder {
        guard RunID.isValid(start.runID) else { throw TraceError(.invalidArgument, "invalid run id '\(start.runID)'") }
        try directory.create()
        let path = directory.runPath(start.runID)
        let fd = try TraceFileIO.open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND)
        do throws(TraceError) {
            try FileLock.lock(fd, path: path)
            var code = TraceFileIO.writeAll(fd, TraceFormat.header(kind: .run))
            if code == 0 { code = TraceFileIO.dataSync(fd) }
            if code != 0 { throw TraceError(.durability, "cannot create the run file", file: path, errno: code) }
            try TraceFileIO.syncDirectory(directory.path)
            let traceID = TraceID.random(), runSpan = SpanID.random()
            let openHash = try HostIndex(directory: directory).append(type: .indexOpen, span: runSpan, body: JSONObject([
                ("run", .string(start.runID)), ("agent", .string(start.agentName)), ("trace_id", .string(traceID.hex)),
                ("file", .string(start.runID + ".trace")),
            ]))
            let writer = try TraceWriter(path: path, fd: fd, nextSeq: 0, head: openHash, configuration: configuration.writer)
            let recorder = TraceRecorder(runID: start.runID, traceID: traceID, runSpan: runSpan, directory: directory,
                                         writer: writer, fd: fd, configuration: configuration)
            try recorder.append(.runStart, span: runSpan, parent: nil, body: start.json(traceID: traceID))
            try writer.sync()
            return recorder
        } catch {
            close(fd)
            throw error
        }
    }

    private init(runID: String, traceID: TraceID, runSpan: SpanID, directory: TraceDirectory, writer: TraceWriter,
                 fd: Int32, configuration: RecorderConfiguration) {
        self.runID = runID; self.traceID = traceID; self.runSpan = runSpan; self.directory = directory
        self.writer = writer; self.fd = fd; self.configuration = configuration
    }

    /// Appends a record of any type (the broker uses this for its own types). Returns its seq.
    @discardableResult
    public func append(_ type: RecordType, span: SpanID, parent: SpanID?, body: JSONObject) throws(TraceError) -> UInt64 {
        try writer.append(type, span: span, parent: parent, body: body, critical: type.isSecurityCritical)
    }

    /// A process started; returns its span (the parent of its output, denials and calls).
    public func processSpawned(_ spawn: ProcessSpawn) throws(TraceError) -> SpanID {
        let span = SpanID.random()
        try append(.processSpawn, span: span, parent: runSpan, body: spawn.json)
        return span
    }

    /// A process ended (synced at once: exit flags are security decisions).
    public func processExited(_ exit: ProcessExit, span: SpanID) throws(TraceError) {
        try append(.processExit, span: span, parent: runSpan, body: exit.json)
    }

    /// A denied, audited syscall (synced at once).
    public func seccompDenied(_ denial: SeccompDenial, span: SpanID?) throws(TraceError) {
        try append(.seccompDenial, span: span ?? runSpan, parent: span == nil ? nil : runSpan, body: denial.json)
    }

    /// A limit was reached (synced at once).
    public func limitReached(_ event: LimitEvent, span: SpanID?) throws(TraceError) {
        try append(.limitEvent, span: span ?? runSpan, parent: span == nil ? nil : runSpan, body: event.json)
    }

    /// A model request through the broker; returns its span.
    @discardableResult
    public func modelRequest(_ request: ModelRequest, parent: SpanID? = nil) throws(TraceError) -> SpanID {
        let span = SpanID.random()
        try append(.modelRequest, span: span, parent: parent ?? runSpan, body: request.json)
        return span
    }

    /// A tool call through the broker; returns its span.
    @discardableResult
    public func toolCall(_ call: ToolCall, parent: SpanID? = nil) throws(TraceError) -> SpanID {
        let span = SpanID.random()
        try append(.toolCall, span: span, parent: parent ?? runSpan, body: call.json)
        return span
    }

    /// A guardrail verdict and the action taken, inside the call span it judged.
    public func guardrailDecided(_ decision: GuardrailDecision, span: SpanID) throws(TraceError) {
        try append(.guardrailDecision, span: span, parent: runSpan, body: decision.json)
    }

    /// Output bytes of a process; kept up to the per-run bound, counted past it.
    public func output(_ stream: OutputStream, _ bytes: some Collection<UInt8>, span: SpanID) throws(TraceError) {
        let data = Array(bytes)
        lock.lock()
        let kept = outputKept.values.reduce(0, +)
        let room = configuration.outputLimitBytes > kept ? Int(min(UInt64(data.count), configuration.outputLimitBytes - kept)) : 0
        outputKept[stream.rawValue, default: 0] += UInt64(room)
        outputDropped[stream.rawValue, default: 0] += UInt64(data.count - room)
        var offset = outputOffset[stream.rawValue, default: 0]
        outputOffset[stream.rawValue] = offset + UInt64(data.count)
        lock.unlock()
        var start = 0
        while start < room {
            let end = min(room, start + configuration.chunkBytes)
            try append(.outputChunk, span: span, parent: runSpan, body: OutputEncoding.chunkBody(stream, offset: offset, data[start..<end]))
            offset += UInt64(end - start)
            start = end
        }
    }

    /// Barrier: every record so far is durable (or this throws under fail-closed).
    public func sync() throws(TraceError) { try writer.sync() }

    /// The writer's durability failure, if one happened (under `.warn` the run continues).
    public var durabilityFailure: TraceError? { writer.durabilityFailure }

    /// Records dropped output and `run.end`, syncs, closes the file and closes the run in the host index.
    /// Returns the run's final hash. Must be called before the run is reported finished.
    @discardableResult
    public func finish(_ end: RunEnd) throws(TraceError) -> SHA256Digest {
        lock.lock()
        if finished { lock.unlock(); throw TraceError(.closed, "run \(runID) already finished") }
        finished = true
        let dropped = outputDropped.filter { $0.value > 0 }
        let kept = outputKept
        lock.unlock()
        for (stream, count) in dropped.sorted(by: { $0.key < $1.key }) {
            try append(.outputDropped, span: runSpan, parent: nil, body: JSONObject([
                ("stream", .string(stream)), ("dropped_bytes", RecordBody.int(count)),
                ("limit_bytes", RecordBody.int(configuration.outputLimitBytes)),
            ]))
        }
        try append(.runEnd, span: runSpan, parent: nil, body: end.json(outputBytes: kept, droppedBytes: dropped))
        try writer.sync()
        let final = writer.lastHash, records = writer.nextSequence
        try writer.close()
        try HostIndex(directory: directory).append(type: .indexClose, span: runSpan, body: JSONObject([
            ("run", .string(runID)), ("status", .string(end.status)), ("records", RecordBody.int(records)),
            ("final_sha256", .string(final.hex)),
        ]))
        return final
    }
}

/// How output bytes are stored: UTF-8 text when valid, base64 otherwise.
enum OutputEncoding {
    static func chunkBody(_ stream: OutputStream, offset: UInt64, _ bytes: ArraySlice<UInt8>) -> JSONObject {
        var body = JSONObject([("stream", .string(stream.rawValue)), ("offset", RecordBody.int(offset)),
                               ("length", RecordBody.int(bytes.count))])
        if let text = String(validating: bytes, as: UTF8.self) {
            body["text"] = .string(text)
        } else {
            body["base64"] = .string(Base64.encode(bytes))
        }
        return body
    }
}

/// RFC 4648 base64 (no Foundation under Sources/).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let data = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let b0 = UInt32(data[i]), b1 = i + 1 < data.count ? UInt32(data[i + 1]) : 0, b2 = i + 2 < data.count ? UInt32(data[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < data.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < data.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
