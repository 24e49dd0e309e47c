/// The recorded passes of a ``GPUBackend``, by batch shape; past a limit the least recently used one is
/// updated into the new shape.
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

    /// The recording for `shape`, marked as just used, and whether it was made now: a kept one, else
    /// `body` recorded, in place of the least recently used recording when the cache is full (a CUDA
    /// graph exec updated in place: the launch sequence keeps its kernels and changes only shapes).
    mutating func step(for shape: Shape, device: any ComputeDevice,
                       recording body: () throws(InferenceError) -> Void) throws(InferenceError) -> (step: RecordedStep, new: Bool) {
        clock += 1
        if let entry = steps[shape] {
            steps[shape] = (entry.step, clock)
            return (entry.step, false)
        }
        let step: RecordedStep
        if steps.count >= limit, let oldest = steps.min(by: { $0.value.used < $1.value.used }) {
            steps[oldest.key] = nil
            do {
                step = try device.update(oldest.value.step, body)
            } catch {
                device.release(oldest.value.step)  // not kept any more either way (a second release is a no-op)
                throw error
            }
        } else {
            step = try device.record(body)
        }
        steps[shape] = (step, clock)
        return (step, true)
    }

    /// Whether a recording for `shape` is kept (without marking it used).
    func contains(_ shape: Shape) -> Bool { steps[shape] != nil }

    mutating func removeAll(_ device: any ComputeDevice) {
        for entry in steps.values { device.release(entry.step) }
        steps = [:]
    }
}
