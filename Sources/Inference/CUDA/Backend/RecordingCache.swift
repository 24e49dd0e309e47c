/// The recorded passes of a ``GPUBackend``, by batch shape, least recently used dropped past a limit.
struct RecordingCache {
    struct Shape: Hashable {
        let tokens: Int
        let outputs: Int
    }

    private var steps: [Shape: (step: RecordedStep, used: Int)] = [:]
    private var clock = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { steps.count }

    /// The recording for `shape`, marked as just used.
    mutating func step(for shape: Shape) -> RecordedStep? {
        guard let entry = steps[shape] else { return nil }
        clock += 1
        steps[shape] = (entry.step, clock)
        return entry.step
    }

    /// Keeps `step` for `shape`, releasing the least recently used recording when over the limit.
    mutating func insert(_ step: RecordedStep, for shape: Shape, device: any ComputeDevice) {
        clock += 1
        steps[shape] = (step, clock)
        while steps.count > limit, let oldest = steps.min(by: { $0.value.used < $1.value.used }) {
            device.release(oldest.value.step)
            steps[oldest.key] = nil
        }
    }

    mutating func removeAll(_ device: any ComputeDevice) {
        for entry in steps.values { device.release(entry.step) }
        steps = [:]
    }
}
