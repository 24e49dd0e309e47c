import Glibc

/// How a trace writer makes records durable, and what it does when it cannot.
public struct WriterConfiguration: Sendable {
    /// When records reach the disk.
    public enum SyncMode: Sendable, Equatable {
        /// Never fdatasync on its own; only `sync()` barriers and critical records do.
        case none
        /// Group commit: every record is durable within this many nanoseconds of its append.
        case groupCommit(windowNanoseconds: UInt64)
        /// fdatasync after each record; `append` returns once its record is durable.
        case everyRecord
    }

    /// What happens when a record cannot be made durable (ENOSPC, EIO, ...).
    public enum DurabilityFailurePolicy: String, Sendable {
        /// Appends and barriers throw from then on; the supervisor stops the run. The default.
        case failClosed = "fail-closed"
        /// The run goes on; the trace stops at the last durable record and a warning is printed.
        case warn
    }

    public var sync: SyncMode
    /// Records that may wait for the writer thread before `append` blocks (the bounded queue).
    public var queueCapacity: Int
    public var onDurabilityFailure: DurabilityFailurePolicy
    /// Where the `.warn` policy's loud warnings go (standard error by default).
    public var warning: @Sendable (String) -> Void

    /// The default: 5 ms group commit, 8192-record queue, fail closed.
    public init(sync: SyncMode = .groupCommit(windowNanoseconds: 5_000_000), queueCapacity: Int = 8192,
                onDurabilityFailure: DurabilityFailurePolicy = .failClosed,
                warning: @escaping @Sendable (String) -> Void = WriterConfiguration.standardErrorWarning) {
        self.sync = sync
        self.queueCapacity = max(1, queueCapacity)
        self.onDurabilityFailure = onDurabilityFailure
        self.warning = warning
    }

    /// Writes `warden: WARNING: ...` to standard error.
    public static let standardErrorWarning: @Sendable (String) -> Void = { message in
        let line = Array(("warden: WARNING: " + message + "\n").utf8)
        _ = line.withUnsafeBytes { TraceFileIO.writeAll(2, $0) }
    }
}
