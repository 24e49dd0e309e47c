import Glibc
import Specs
import TraceStore

/// Append throughput with 300-byte bodies: the trace writer in three sync modes, and a plain
/// `write` loop of 300-byte records on the same file system as the floor.
enum AppendBenchmark {
    static func run(directory: TraceDirectory, mode: String, count: Int) throws {
        try directory.create()
        let text = String(repeating: "x", count: 290)
        let start = TraceClock.monotonicNanoseconds()
        let cpuStart = cpuSeconds()
        switch mode {
        case "write-loop":
            let path = directory.path + "/write-loop.bin"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
            guard fd >= 0 else { fail("open \(path)") }
            let record = [UInt8](repeating: 0x78, count: 300)
            for _ in 0..<count {
                guard record.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == 300 else { fail("write") }
            }
            close(fd)
            unlink(path)
        case "encode", "json", "frame":
            // Where the per-record time goes: canonical JSON, framing (CRC-32C), chaining (SHA-256).
            let body = JSONObject([("text", .string(text))])
            let span = SpanID.random()
            var prev = SHA256Digest.zero
            for seq in 0..<UInt64(count) {
                let record = TraceRecord(seq: seq, timestamp: TraceClock.wallNanoseconds(), type: "bench.record", span: span,
                                         parent: span, body: body, prev: prev)
                if mode == "json" { _ = record.payload(); continue }
                let frame = record.frame()
                if mode == "frame" { continue }
                prev = SHA256Digest(hashing: frame)
            }
        default:
            let sync: WriterConfiguration.SyncMode
            switch mode {
            case "none": sync = .none
            case "group": sync = .groupCommit(windowNanoseconds: 5_000_000)
            case "every": sync = .everyRecord
            default: fail("unknown mode \(mode)")
            }
            let recorder = try TraceRecorder.start(sampleStart(RunID.make()), directory: directory,
                                                   configuration: RecorderConfiguration(writer: WriterConfiguration(sync: sync)))
            let body = JSONObject([("text", .string(text))])
            let span = SpanID.random()
            for _ in 0..<count { try recorder.append("bench.record", span: span, parent: recorder.runSpan, body: body) }
            try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        }
        let elapsed = Double(TraceClock.monotonicNanoseconds() - start) / 1e9
        let cpu = cpuSeconds() - cpuStart
        say("\(mode) records=\(count) seconds=\(elapsed) cpu_us_per_record=\(Double(Int(cpu / Double(count) * 1e8)) / 100)"
            + " records_per_second=\(Int(Double(count) / elapsed))")
    }

    /// User + system CPU time of this process (all threads), in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
