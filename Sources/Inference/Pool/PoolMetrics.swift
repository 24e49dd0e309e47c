import Synchronization

/// A snapshot of the pool for the supervisor: queues, batches, latencies, KV memory, counters.
public struct PoolMetrics: Sendable, Equatable {
    /// Requests waiting, per agent (agents with none waiting are absent).
    public var queueDepthByAgent: [String: Int] = [:]
    /// Sequences running, all workers.
    public var runningSequences = 0
    /// Workers started (loading or serving).
    public var workers = 0
    /// Sequences in the last step of any worker, and the mean over all steps.
    public var lastBatchSize = 0
    public var meanBatchSize = 0.0
    /// Time to first token and inter-token latency over a recent window, milliseconds.
    public var timeToFirstTokenP50Milliseconds = 0.0
    public var timeToFirstTokenP95Milliseconds = 0.0
    public var interTokenLatencyP50Milliseconds = 0.0
    public var interTokenLatencyP95Milliseconds = 0.0
    /// Generated tokens per second over the recent steps.
    public var tokensPerSecond = 0.0
    /// KV blocks, all workers: held, held by more than one sequence, in the prefix cache, in all.
    public var kvBlocksUsed = 0
    public var kvBlocksShared = 0
    public var kvBlocksCached = 0
    public var kvBlocksTotal = 0
    /// Prompt tokens whose KV came from the prefix cache.
    public var prefixHitTokens = 0
    /// Prompt tokens computed (prefill work done).
    public var promptTokensComputed = 0
    /// Generated tokens.
    public var generatedTokens = 0
    /// Tokens the backend picked itself (`evaluate(_:choosing:)`: plain samplers), out of the generated.
    public var tokensChosenByBackend = 0
    public var preemptions = 0
    public var rejections = 0
    public var cancellations = 0
    public var deadlineMisses = 0
    public var completions = 0
    public var failures = 0
    /// Scheduler steps, and nanoseconds spent outside and inside `evaluate` over them.
    public var steps = 0
    public var schedulerNanoseconds: UInt64 = 0
    public var modelNanoseconds: UInt64 = 0

    public init() {}

    /// Scheduler time as a fraction of model time (the pool's overhead per step).
    public var schedulerOverhead: Double {
        modelNanoseconds == 0 ? 0 : Double(schedulerNanoseconds) / Double(modelNanoseconds)
    }
}

/// One worker's state after its last step.
struct WorkerSnapshot: Sendable {
    var running = 0
    var lastBatchSize = 0
    var blocksUsed = 0
    var blocksShared = 0
    var blocksCached = 0
    var blocksTotal = 0
}

/// What one step did, for the recorder.
struct StepRecord: Sendable {
    var sequences = 0
    var generatedTokens = 0
    var promptTokensComputed = 0
    /// Entries whose token the backend picked.
    var chosenOnBackend = 0
    var schedulerNanos: UInt64 = 0
    var modelNanos: UInt64 = 0
    var timesToFirstToken: [Double] = []
    var interTokenLatencies: [Double] = []
}

/// The pool's counters and recent samples, shared by its threads.
final class PoolMetricsRecorder: Sendable {
    private struct State {
        var metrics = PoolMetrics()
        var batchSizeSum = 0
        var snapshots: [ObjectIdentifier: WorkerSnapshot] = [:]
        var ttft = SampleWindow(capacity: 512)
        var itl = SampleWindow(capacity: 4096)
        /// (monotonic ns, generated tokens) of recent steps.
        var recentSteps: [(UInt64, Int)] = []
        var recentCompletions: [UInt64] = []
    }
    private let state = Mutex(State())

    func recordStep(_ record: StepRecord, worker: ObjectIdentifier, snapshot: WorkerSnapshot) {
        let now = monotonicNanos()
        state.withLock { s in
            s.metrics.steps += 1
            s.batchSizeSum += record.sequences
            s.metrics.lastBatchSize = record.sequences
            s.metrics.generatedTokens += record.generatedTokens
            s.metrics.promptTokensComputed += record.promptTokensComputed
            s.metrics.tokensChosenByBackend += record.chosenOnBackend
            s.metrics.schedulerNanoseconds += record.schedulerNanos
            s.metrics.modelNanoseconds += record.modelNanos
            for value in record.timesToFirstToken { s.ttft.add(value) }
            for value in record.interTokenLatencies { s.itl.add(value) }
            s.recentSteps.append((now, record.generatedTokens))
            if s.recentSteps.count > 256 { s.recentSteps.removeFirst(s.recentSteps.count - 256) }
            s.snapshots[worker] = snapshot
        }
    }

    /// A worker's state without a step (a worker that just started: its arena counts from now on).
    func publish(_ snapshot: WorkerSnapshot, worker: ObjectIdentifier) {
        state.withLock { $0.snapshots[worker] = snapshot }
    }

    func removeWorker(_ worker: ObjectIdentifier) { state.withLock { _ = $0.snapshots.removeValue(forKey: worker) } }

    /// Counts one event of a kind (`\.preemptions`, `\.rejections`, ...).
    func count(_ counter: WritableKeyPath<PoolMetrics, Int>, by amount: Int = 1) {
        guard amount != 0 else { return }
        state.withLock { $0.metrics[keyPath: counter] += amount }
    }

    func recordCompletion() {
        let now = monotonicNanos()
        state.withLock { s in
            s.metrics.completions += 1
            s.recentCompletions.append(now)
            if s.recentCompletions.count > 64 { s.recentCompletions.removeFirst() }
        }
    }

    /// Requests completed per second recently, nil before there is a measure.
    var completionsPerSecond: Double? {
        state.withLock { s in
            guard s.recentCompletions.count >= 2, let first = s.recentCompletions.first else { return nil }
            let span = Double(monotonicNanos() - first) / 1e9
            return span > 0 ? Double(s.recentCompletions.count - 1) / span : nil
        }
    }

    /// The snapshot, queue depths and worker count filled in by the pool.
    func snapshot() -> PoolMetrics {
        let now = monotonicNanos()
        return state.withLock { s in
            var m = s.metrics
            m.meanBatchSize = m.steps == 0 ? 0 : Double(s.batchSizeSum) / Double(m.steps)
            (m.timeToFirstTokenP50Milliseconds, m.timeToFirstTokenP95Milliseconds) = (s.ttft.percentile(0.5), s.ttft.percentile(0.95))
            (m.interTokenLatencyP50Milliseconds, m.interTokenLatencyP95Milliseconds) = (s.itl.percentile(0.5), s.itl.percentile(0.95))
            if let first = s.recentSteps.first, now > first.0 {
                let tokens = s.recentSteps.dropFirst().reduce(0) { $0 + $1.1 }
                m.tokensPerSecond = Double(tokens) / (Double(now - first.0) / 1e9)
            }
            for snapshot in s.snapshots.values {
                m.runningSequences += snapshot.running
                m.kvBlocksUsed += snapshot.blocksUsed
                m.kvBlocksShared += snapshot.blocksShared
                m.kvBlocksCached += snapshot.blocksCached
                m.kvBlocksTotal += snapshot.blocksTotal
            }
            return m
        }
    }
}

/// The latest `capacity` samples of a latency.
struct SampleWindow {
    let capacity: Int
    private var values: [Double] = []
    private var next = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ value: Double) {
        if values.count < capacity { values.append(value) } else { values[next] = value }
        next = (next + 1) % capacity
    }

    /// The nearest-rank percentile (0 with no samples).
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
