/// One NVIDIA GPU through the CUDA driver API: the ``ComputeDevice`` the GPU backend runs on.
///
/// It holds the device's primary context (shared with anything else in the process that uses the
/// device, as the runtime API would), one non-blocking stream that every call is ordered on, and the
/// kernels' module JIT-compiled from the committed PTX. Copies go through pinned staging memory so
/// they are asynchronous; ``record(_:)`` captures the stream into a CUDA graph.
///
/// Calls must not overlap (the contract: its one pool worker serializes them), which is why the
/// mutable state below needs no lock; the context is made current on the calling thread by each call,
/// because the worker may be resumed on any thread.
public final class CUDADevice: ComputeDevice, @unchecked Sendable {
    /// The device as discovery describes it.
    public let info: CUDADeviceInfo
    /// e.g. `cuda:0 (NVIDIA H200, sm_90, 139 GiB)`.
    public let name: String

    /// The PTX the module was loaded from: `compute_90` or the `compute_61` baseline.
    public var ptxTarget: String { module.target }

    let driver: CUDADriver
    let device: Int32
    let context: OpaquePointer
    let stream: OpaquePointer
    let module: CUDAModule
    var staging: PinnedStaging
    /// Each kernel's dynamic shared-memory limit as raised so far (48 KiB until raised).
    var sharedLimits: [Kernel: UInt32] = [:]
    /// The distinct kernels launched since the last synchronize, in first-launch order, and whether a
    /// recorded step was replayed since: an asynchronous fault surfaces with no kernel named, so these
    /// are the suspects its error lists. Bounded by the number of kernels.
    var launchedSinceSync: [Kernel] = []
    var replayedSinceSync = false
    /// Launches issued while a ``record(_:)`` is capturing (nil when not capturing).
    var capturedLaunches: Int?
    /// Timing events, created on first use by ``timed(_:)``.
    var timingEvents: (start: OpaquePointer, end: OpaquePointer)?

    /// Opens device `ordinal`: `.unavailable` when there is no driver, no such device, or a device too
    /// old for the kernels; `.deviceFailure` when the driver refuses a step (the message names it).
    public convenience init(ordinal: Int) throws(InferenceError) {
        switch CUDADriver.shared {
        case .failure(let error): throw error
        case .success(let driver): try self.init(ordinal: ordinal, driver: driver)
        }
    }

    init(ordinal: Int, driver: CUDADriver) throws(InferenceError) {
        var count: Int32 = 0
        try driver.check(driver.api.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal >= 0, ordinal < Int(count) else {
            throw InferenceError(.unavailable, "no CUDA device \(ordinal): the driver reports \(count)")
        }
        let info = try CUDADevice.describe(ordinal: ordinal, driver: driver)
        guard let ptx = CUDAModule.ptx(for: info.computeCapability) else {
            throw InferenceError(.unavailable, "\(info.summary) is too old: the kernels need compute capability 6.1 (dp4a)")
        }
        var device: Int32 = 0
        try driver.check(driver.api.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var retained: OpaquePointer?
        try driver.check(driver.api.cuDevicePrimaryCtxRetain(&retained, device), "cuDevicePrimaryCtxRetain")
        guard let context = retained else { throw InferenceError(.deviceFailure, "cuDevicePrimaryCtxRetain returned no context") }
        var made = Resources(driver: driver, device: device)
        do throws(InferenceError) {
            try driver.check(driver.api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
            var created: OpaquePointer?
            try driver.check(driver.api.cuStreamCreate(&created, CUDAConstant.streamNonBlocking), "cuStreamCreate")
            made.stream = created
            made.module = try CUDAModule(ptx: ptx.text, target: ptx.target, driver: driver)
            made.staging = try PinnedStaging(driver: driver)
        } catch {
            made.release()
            throw error
        }
        guard let stream = made.stream, let module = made.module, let staging = made.staging else {
            made.release()
            throw InferenceError(.deviceFailure, "cuStreamCreate returned no stream")
        }
        self.info = info
        self.name = info.summary
        self.driver = driver
        self.device = device
        self.context = context
        self.stream = stream
        self.module = module
        self.staging = staging
    }

    /// What `init` made so far, released in reverse if a later step fails.
    private struct Resources {
        let driver: CUDADriver
        let device: Int32
        var stream: OpaquePointer?
        var module: CUDAModule?
        var staging: PinnedStaging?

        func release() {
            staging?.release()
            if let module { _ = driver.api.cuModuleUnload(module.module) }
            if let stream { _ = driver.api.cuStreamDestroy(stream) }
            _ = driver.api.cuDevicePrimaryCtxRelease(device)
        }
    }

    deinit {
        _ = driver.api.cuCtxSetCurrent(context)
        _ = driver.api.cuStreamSynchronize(stream)
        if let timingEvents {
            _ = driver.api.cuEventDestroy(timingEvents.start)
            _ = driver.api.cuEventDestroy(timingEvents.end)
        }
        Resources(driver: driver, device: device, stream: stream, module: module, staging: staging).release()
    }

    /// Makes the device's context current on this thread (cheap: a thread-local store in the driver).
    func makeCurrent() throws(InferenceError) {
        try driver.check(driver.api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    public func memoryInfo() throws(InferenceError) -> (free: Int, total: Int) {
        try makeCurrent()
        var free = 0, total = 0
        try driver.check(driver.api.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        return (free, total)
    }

    public func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer {
        guard byteCount > 0 else { throw InferenceError(.invalidArgument, "cannot allocate \(byteCount) bytes on \(name)") }
        try makeCurrent()
        var address: UInt64 = 0
        try driver.check(driver.api.cuMemAlloc(&address, byteCount), "cuMemAlloc_v2(\(byteCount) bytes)")
        return DeviceBuffer(address: address, byteCount: byteCount)  // cuMemAlloc aligns to at least 256 bytes
    }

    public func free(_ buffer: DeviceBuffer) {
        guard (try? makeCurrent()) != nil else { return }
        _ = driver.api.cuMemFree(buffer.address)
    }
}
