import TraceStore

extension Metrics {
    /// The trace store's own figures (`TraceMetrics`: every trace writer of this process, recovery
    /// included): records and bytes appended, fdatasync latency, durability failures, labelled only
    /// by the kind of file (`run` files and the host `index`).
    /// `family` writes a family's HELP and TYPE lines, `emit` a sample line (both into the same text).
    static func renderTraceStore(family: (String, String, String) -> Void, emit: (String) -> Void) {
        let files = TraceMetrics.File.allCases
        let snapshots = files.map { ($0.rawValue, TraceMetrics.snapshot($0)) }
        family("warden_trace_appended_records_total", "counter", "Trace records written, by kind of trace file (run files, the host index).")
        for (file, figures) in snapshots { emit("warden_trace_appended_records_total{file=\"\(file)\"} \(figures.records)\n") }
        family("warden_trace_appended_bytes_total", "counter", "Trace bytes written (framed records), by kind of trace file.")
        for (file, figures) in snapshots { emit("warden_trace_appended_bytes_total{file=\"\(file)\"} \(figures.bytes)\n") }
        family("warden_trace_durability_failures_total", "counter", "Trace writes or syncs that failed (the trace could not be made durable).")
        for (file, figures) in snapshots { emit("warden_trace_durability_failures_total{file=\"\(file)\"} \(figures.failures)\n") }
        family("warden_trace_sync_seconds", "histogram",
               "fdatasync latency of trace group commits (run files) and of host index appends (one sync each).")
        for (file, figures) in snapshots {
            let name = "warden_trace_sync_seconds"
            var cumulative: UInt64 = 0
            for (bound, count) in zip(TraceMetrics.syncBoundsNanoseconds, figures.syncBuckets) {
                cumulative += count
                emit("\(name)_bucket{file=\"\(file)\",le=\"\(TraceMetrics.seconds(nanoseconds: bound))\"} \(cumulative)\n")
            }
            emit("\(name)_bucket{file=\"\(file)\",le=\"+Inf\"} \(figures.syncCount)\n")
            emit("\(name)_sum{file=\"\(file)\"} \(TraceMetrics.seconds(nanoseconds: figures.syncNanoseconds))\n")
            emit("\(name)_count{file=\"\(file)\"} \(figures.syncCount)\n")
        }
    }
}
