/// The seam between the GPU backend and whatever runs its kernels (CONTRACT).
///
/// ``CUDADevice`` runs the kernels of `CUDA/Kernels/*.cu` on an NVIDIA GPU through the driver API
/// (PTX loaded with `cuModuleLoadDataEx`); the tests' emulated device runs the very same kernel source,
/// compiled for the host by the C++ CUDA emulator (Tests/CUDAEmulator), so the backend's orchestration
/// and every kernel's arithmetic are checked on machines without a GPU. Both speak in device addresses.
///
/// Work is stream-ordered: `upload`, `launch`, `download` and `replay` run in the order they are called
/// (a device may run them asynchronously); `synchronize` waits for all of it and reports the first
/// failure. Calls on one device must not overlap (its owner, one pool worker, serializes them).
public protocol ComputeDevice: AnyObject, Sendable {
    /// A short description for logs, e.g. `cuda:0 (NVIDIA H200, sm_90, 139 GiB)` or `emulated`.
    var name: String { get }
    /// Bytes of device memory free and in total now.
    func memoryInfo() throws(InferenceError) -> (free: Int, total: Int)

    /// Allocates `byteCount` bytes (at least 256-byte aligned) of device memory.
    func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer
    /// Frees a buffer from `allocate` (after the work using it has finished).
    func free(_ buffer: DeviceBuffer)
    /// Copies host bytes to `buffer` at `offset`. The host memory may be reused once this returns.
    func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) throws(InferenceError)
    /// Copies bytes from `buffer` at `offset` into host memory; the bytes are there after `synchronize`.
    func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws(InferenceError)
    /// Sets `byteCount` bytes of `buffer` from `offset` to `value`.
    func fill(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, value: UInt8) throws(InferenceError)

    /// Launches one kernel (a name from ``Kernel``) over `shape` with `arguments` in the kernel's order.
    func launch(_ kernel: Kernel, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError)
    /// Waits for all work issued so far; throws the first error any of it met (with the kernel's name).
    func synchronize() throws(InferenceError)

    /// Records the launches `body` issues (no uploads or downloads inside) as one replayable step:
    /// a CUDA graph on a GPU, the list of launches on the emulator. Nothing runs while recording.
    func record(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep
    /// Runs a recorded step again, stream-ordered after earlier work. Its launches see the buffers'
    /// contents at the time they run (so per-step inputs are uploaded into the same buffers first).
    func replay(_ step: RecordedStep) throws(InferenceError)
    /// Frees a recorded step.
    func release(_ step: RecordedStep)
    /// Records `body` in place of `step`, which is not replayed again (a CUDA graph exec updated in place
    /// when only shapes and arguments changed, cheaper than a new one); returns the step to replay.
    func update(_ step: RecordedStep, _ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep
}

extension ComputeDevice {
    /// A new recording of `body`; `step` is released once it exists (devices with nothing cheaper).
    public func update(_ step: RecordedStep, _ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        let fresh = try record(body)
        release(step)
        return fresh
    }
}

/// A span of device memory: its device address and size.
public struct DeviceBuffer: Sendable, Hashable {
    public let address: UInt64
    public let byteCount: Int

    public init(address: UInt64, byteCount: Int) {
        self.address = address
        self.byteCount = byteCount
    }

    /// The address `offset` bytes in (checked against the size in debug builds).
    public func address(at offset: Int) -> UInt64 {
        assert(offset >= 0 && offset <= byteCount, "offset \(offset) outside a \(byteCount)-byte buffer")
        return address + UInt64(offset)
    }
}

/// A grid of blocks of threads, and each block's dynamic shared memory.
public struct LaunchShape: Sendable, Equatable {
    public var grid: (x: UInt32, y: UInt32, z: UInt32)
    public var block: (x: UInt32, y: UInt32, z: UInt32)
    public var sharedBytes: UInt32

    public init(grid: (UInt32, UInt32, UInt32), block: (UInt32, UInt32, UInt32), sharedBytes: UInt32 = 0) {
        self.grid = (grid.0, grid.1, grid.2)
        self.block = (block.0, block.1, block.2)
        self.sharedBytes = sharedBytes
    }

    public static func == (a: LaunchShape, b: LaunchShape) -> Bool {
        a.grid == b.grid && a.block == b.block && a.sharedBytes == b.sharedBytes
    }
}

/// One kernel argument, passed by value as the kernel's C parameter of the same size.
public enum KernelArgument: Sendable, Equatable {
    /// A pointer parameter: the buffer's address plus a byte offset.
    case pointer(DeviceBuffer, offset: Int)
    /// An `int` parameter.
    case int32(Int32)
    /// A `float` parameter.
    case float(Float)

    /// A pointer to the start of a buffer.
    public static func buffer(_ b: DeviceBuffer) -> KernelArgument { .pointer(b, offset: 0) }
}

/// A step recorded by ``ComputeDevice/record(_:)``; only the device that made it can replay it.
public final class RecordedStep: @unchecked Sendable {
    /// The device's own handle (a CUDA graph exec, or the emulator's launch list).
    public let handle: AnyObject
    /// Launches recorded.
    public let launchCount: Int

    public init(handle: AnyObject, launchCount: Int) {
        self.handle = handle
        self.launchCount = launchCount
    }
}
