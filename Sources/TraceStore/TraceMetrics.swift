import Synchronization

/// Process-wide counters of what the trace store writes: records and bytes appended, and the
/// latency of every fdatasync (a run file's group commit, or a host index append), split only by
/// the kind of file (never by run: a fleet of runs must not make a fleet of series).
///
/// Fed per written batch and per sync with relaxed atomic adds, so the append path pays nothing:
/// no lock, no allocation, no clock read per record. The supervisor renders them on `/metrics`.
public enum TraceMetrics {
    /// Which kind of trace file a figure is about.
    public enum File: String, CaseIterable, Sendable {
        /// Run files, written by `TraceWriter` (group commit), recovery's records included.
        case run
        /// The host index (`index.open` / `index.close` / `index.recovered`), one synced append each.
        case index
    }

    /// Upper bounds of the sync latency buckets, in nanoseconds (25 µs to 10 s); one more bucket
    /// counts slower syncs, so every sync lands in exactly one bucket.
    public static let syncBoundsNanoseconds: [UInt64] = [
        25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
        50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 10_000_000_000,
    ]

    /// A consistent-enough reading: each counter is read once; `syncCount` is the sum of the buckets
    /// (so a histogram's `+Inf` bucket always equals its count).
    public struct Snapshot: Sendable, Equatable {
        public var records: UInt64
        public var bytes: UInt64
        /// Syncs per bucket (not cumulative), `syncBoundsNanoseconds.count + 1` of them.
        public var syncBuckets: [UInt64]
        public var syncNanoseconds: UInt64
        public var failures: UInt64
        public var syncCount: UInt64 { syncBuckets.reduce(0, +) }
    }

    /// The figures for one kind of file.
    public static func snapshot(_ file: File) -> Snapshot { counters(file).snapshot() }

    static func counters(_ file: File) -> Counters { file == .run ? runFiles : indexFile }

    private static let runFiles = Counters()
    private static let indexFile = Counters()

    /// Atomic counters; `Sendable` because every member is an atomic.
    final class Counters: Sendable {
        static let slots = 18
        private let records = Atomic<UInt64>(0)
        private let bytes = Atomic<UInt64>(0)
        private let syncNanoseconds = Atomic<UInt64>(0)
        private let failures = Atomic<UInt64>(0)
        private let buckets = InlineArray<18, Atomic<UInt64>> { _ in Atomic(0) }

        /// `count` records of `byteCount` bytes reached the file (one `write`).
        func wrote(records count: Int, bytes byteCount: Int) {
            records.wrappingAdd(UInt64(count), ordering: .relaxed)
            bytes.wrappingAdd(UInt64(byteCount), ordering: .relaxed)
        }

        /// One fdatasync took `nanoseconds`.
        func synced(nanoseconds: UInt64) {
            var slot = 0
            while slot < TraceMetrics.syncBoundsNanoseconds.count && nanoseconds > TraceMetrics.syncBoundsNanoseconds[slot] { slot += 1 }
            buckets[slot].wrappingAdd(1, ordering: .relaxed)
            syncNanoseconds.wrappingAdd(nanoseconds, ordering: .relaxed)
        }

        /// A write or sync failed: the file can no longer be made durable.
        func failed() { failures.wrappingAdd(1, ordering: .relaxed) }

        func snapshot() -> Snapshot {
            var counts: [UInt64] = []
            counts.reserveCapacity(Self.slots)
            for slot in 0..<Self.slots { counts.append(buckets[slot].load(ordering: .relaxed)) }
            return Snapshot(records: records.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed), syncBuckets: counts,
                            syncNanoseconds: syncNanoseconds.load(ordering: .relaxed), failures: failures.load(ordering: .relaxed))
        }
    }

    /// Nanoseconds as decimal seconds without an exponent (`25000` -> `0.000025`), for `le` labels and sums.
    public static func seconds(nanoseconds: UInt64) -> String {
        let whole = nanoseconds / 1_000_000_000, fraction = nanoseconds % 1_000_000_000
        guard fraction > 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
