// A ComputeDevice that forwards everything to the real one and counts kernel launches (direct, and
// inside replayed recorded steps), so launches per decode step are measured rather than assumed.
import Inference
import Synchronization

final class CountingDevice: ComputeDevice, @unchecked Sendable {
    let inner: any ComputeDevice
    private let counts = Mutex<(launches: Int, replays: Int, replayedLaunches: Int)>((0, 0, 0))

    init(_ inner: any ComputeDevice) { self.inner = inner }

    /// Launches so far: direct ones, graph replays, and the kernels those replays ran.
    var snapshot: (launches: Int, replays: Int, replayedLaunches: Int) { counts.withLock { $0 } }

    var name: String { inner.name }
    func memoryInfo() throws(InferenceError) -> (free: Int, total: Int) { try inner.memoryInfo() }
    func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer { try inner.allocate(byteCount) }
    func free(_ buffer: DeviceBuffer) { inner.free(buffer) }
    func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) throws(InferenceError) {
        try inner.upload(bytes, to: buffer, offset: offset)
    }
    func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws(InferenceError) {
        try inner.download(buffer, offset: offset, into: bytes)
    }
    func fill(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, value: UInt8) throws(InferenceError) {
        try inner.fill(buffer, offset: offset, byteCount: byteCount, value: value)
    }

    func launch(_ kernel: Kernel, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError) {
        counts.withLock { $0.launches += 1 }
        try inner.launch(kernel, shape, arguments)
    }

    func synchronize() throws(InferenceError) { try inner.synchronize() }

    func record(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        // Launches issued while recording run later, through replay: they are not counted here.
        let before = counts.withLock { $0.launches }
        let step = try inner.record(body)
        counts.withLock { $0.launches = before }
        return step
    }

    func replay(_ step: RecordedStep) throws(InferenceError) {
        counts.withLock {
            $0.replays += 1
            $0.replayedLaunches += step.launchCount
        }
        try inner.replay(step)
    }

    func release(_ step: RecordedStep) { inner.release(step) }

    func update(_ step: RecordedStep, _ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        // The inner device's own update (cuGraphExecUpdate on a GPU), not the record-and-release default.
        let before = counts.withLock { $0.launches }
        let updated = try inner.update(step, body)
        counts.withLock { $0.launches = before }
        return updated
    }
}
