import CUDAEmulator
import Glibc
import Inference
import Synchronization

/// A ``ComputeDevice`` that runs the GPU kernels on this machine's CPU, through the CUDA emulator
/// (Tests/CUDAEmulator: the same `.cu` source compiled for the host, each block's threads as fibers).
///
/// It checks what a GPU would not tell you as clearly: every launch's kernel is registered and its
/// arguments match the kernel's parameter kinds and point into live allocations of this device; copies
/// stay inside their buffers; nothing is uploaded while recording. Kernel failures (a divergent barrier
/// or shuffle, a write past a buffer into its guard page) are thrown by `launch` with the kernel's,
/// block's and thread's names, so `synchronize` has nothing left to report.
/// Counters let tests check how work was issued (e.g. that a decode step is replayed, not re-launched).
public final class EmulatedDevice: ComputeDevice, Sendable {
    /// How work reached the device so far.
    public struct Counters: Sendable, Equatable {
        /// `launch` calls that ran a kernel at once (not while recording).
        public var launchesIssued = 0
        /// Kernels run, directly and by replays.
        public var kernelsRun = 0
        /// `launch` calls captured by `record`.
        public var launchesRecorded = 0
        /// Steps recorded, and steps replayed.
        public var steps = 0
        public var replays = 0
        /// Copies and fills.
        public var uploads = 0
        public var downloads = 0
        public var fills = 0
        /// `free` calls for a buffer that was not live (double frees, foreign buffers).
        public var strayFrees = 0
    }

    public let name: String
    private let state: Mutex<State>

    struct State: ~Copyable {
        var memory: EmulatedMemory
        var counters = Counters()
        /// Launches captured by the `record` in progress (nil when not recording).
        var recording: [RecordedLaunch]?
        var handles: [String: UnsafeRawPointer] = [:]

        deinit { memory.unmapAll() }
    }

    /// A device with `capacity` bytes of memory (what `memoryInfo` reports; allocations beyond it fail).
    public init(capacity: Int = 1 << 30, name: String = "emulated (CUDA emulator on the host CPU)") {
        self.name = name
        state = Mutex(State(memory: EmulatedMemory(capacity: capacity)))
    }

    /// The counters so far.
    public var counters: Counters { state.withLock { $0.counters } }
    /// Buffers allocated and not freed, and their bytes (for leak checks).
    public var liveAllocations: (count: Int, bytes: Int) {
        state.withLock { ($0.memory.allocations.count, $0.memory.used) }
    }

    public func memoryInfo() throws(InferenceError) -> (free: Int, total: Int) {
        state.withLock { ($0.memory.capacity - $0.memory.used, $0.memory.capacity) }
    }

    public func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer {
        try state.withLock { (s) throws(InferenceError) -> DeviceBuffer in try s.memory.allocate(byteCount) }
    }

    public func free(_ buffer: DeviceBuffer) {
        state.withLock { s in
            if !s.memory.free(buffer) { s.counters.strayFrees += 1 }
        }
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) throws(InferenceError) {
        // The host memory goes into the lock as an address: it is the caller's, not the device state's.
        let source = UInt(bitPattern: bytes.baseAddress), count = bytes.count
        try state.withLock { (s) throws(InferenceError) in
            let target = try s.span(buffer, offset: offset, byteCount: count, for: "upload")
            if let from = UnsafeRawPointer(bitPattern: source) { target.copyMemory(from: from, byteCount: count) }
            s.counters.uploads += 1
        }
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws(InferenceError) {
        let target = UInt(bitPattern: bytes.baseAddress), count = bytes.count
        try state.withLock { (s) throws(InferenceError) in
            let source = try s.span(buffer, offset: offset, byteCount: count, for: "download")
            if let to = UnsafeMutableRawPointer(bitPattern: target) { to.copyMemory(from: source, byteCount: count) }
            s.counters.downloads += 1
        }
    }

    public func fill(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, value: UInt8) throws(InferenceError) {
        try state.withLock { (s) throws(InferenceError) in
            let target = try s.span(buffer, offset: offset, byteCount: byteCount, for: "fill")
            memset(target, Int32(value), byteCount)
            s.counters.fills += 1
        }
    }

    public func launch(_ kernel: Kernel, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError) {
        try launch(kernelNamed: kernel.rawValue, shape, arguments)
    }

    /// `launch` by the kernel's `extern "C"` name: any registered kernel, the emulator's self-test
    /// kernels included (they are not cases of ``Kernel``).
    public func launch(kernelNamed kernel: String, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError) {
        try state.withLock { (s) throws(InferenceError) in
            let handle = try s.checked(kernel, arguments)
            if s.recording != nil {
                s.recording?.append(RecordedLaunch(kernel: kernel, shape: shape, arguments: arguments))
                s.counters.launchesRecorded += 1
                return
            }
            try EmulatedDevice.run(handle, kernel, shape, arguments)
            s.counters.launchesIssued += 1
            s.counters.kernelsRun += 1
        }
    }

    /// Nothing to wait for: every call ran to its end, and launch errors were thrown by `launch`.
    public func synchronize() throws(InferenceError) {}

    public func record(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        try state.withLock { (s) throws(InferenceError) in
            guard s.recording == nil else { throw InferenceError(.invalidArgument, "record called inside record") }
            s.recording = []
        }
        do {
            try body()
        } catch {
            state.withLock { $0.recording = nil }
            throw error
        }
        let launches = state.withLock { s in
            defer { s.recording = nil }
            s.counters.steps += 1
            return s.recording ?? []
        }
        return RecordedStep(handle: EmulatedStep(device: ObjectIdentifier(self), launches: launches), launchCount: launches.count)
    }

    public func replay(_ step: RecordedStep) throws(InferenceError) {
        guard let recorded = step.handle as? EmulatedStep, recorded.device == ObjectIdentifier(self) else {
            throw InferenceError(.invalidArgument, "replay of a step recorded by another device")
        }
        try state.withLock { (s) throws(InferenceError) in
            guard s.recording == nil else { throw InferenceError(.invalidArgument, "replay inside record") }
            guard !recorded.isReleased else { throw InferenceError(.invalidArgument, "replay of a released step") }
            for launch in recorded.launches {
                // Checked again: a buffer the step uses may have been freed since it was recorded.
                let handle = try s.checked(launch.kernel, launch.arguments)
                try EmulatedDevice.run(handle, launch.kernel, launch.shape, launch.arguments)
                s.counters.kernelsRun += 1
            }
            s.counters.replays += 1
        }
    }

    public func release(_ step: RecordedStep) {
        (step.handle as? EmulatedStep)?.release()
    }

    /// Runs one kernel through the emulator; its failure becomes an error naming it.
    private static func run(
        _ handle: UnsafeRawPointer, _ kernel: String, _ shape: LaunchShape, _ arguments: [KernelArgument]
    ) throws(InferenceError) {
        var message = [CChar](repeating: 0, count: 1024)
        let parameters = KernelParameters(arguments)
        let status = parameters.withPointers { pointers in
            message.withUnsafeMutableBufferPointer { text in
                wk_emu_launch(
                    handle, shape.grid.x, shape.grid.y, shape.grid.z, shape.block.x, shape.block.y, shape.block.z,
                    shape.sharedBytes, pointers, text.baseAddress, text.count)
            }
        }
        guard status == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw InferenceError(.emulatedDeviceFailure, "emulated launch failed: \(text)")
        }
    }
}
