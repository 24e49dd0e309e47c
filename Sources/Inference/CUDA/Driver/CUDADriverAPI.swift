/// The CUDA driver API entry points Warden uses, as `@convention(c)` function pointers resolved from
/// `libcuda.so.1` by `dlsym` (nothing CUDA is linked, so Warden builds and runs without it).
///
/// Each symbol is the name cuda.h (CUDA 12.9) maps the API to: `cuMemAlloc` is `cuMemAlloc_v2`,
/// `cuStreamBeginCapture` is `cuStreamBeginCapture_v2`, and so on; calling the unsuffixed legacy
/// symbol instead would get the 32-bit or old-semantics entry point. Signatures follow cuda.h with
/// `CUresult` as `Int32`, `CUdevice` as `Int32`, `CUdeviceptr` as `UInt64`, `size_t` as `Int`, C enums
/// as `Int32`, and every opaque handle (context, module, function, stream, event, graph) as `OpaquePointer`.
struct CUDADriverAPI: @unchecked Sendable {  // immutable C function pointers, set once at load
    typealias Result = Int32
    typealias Handle = OpaquePointer?
    typealias HandleOut = UnsafeMutablePointer<OpaquePointer?>?
    typealias VoidPointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>?

    let cuInit: @convention(c) (UInt32) -> Result
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>?) -> Result
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>?) -> Result
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Result
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> Result
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>?, Int32, Int32) -> Result
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>?, Int32) -> Result
    let cuDevicePrimaryCtxRetain: @convention(c) (HandleOut, Int32) -> Result
    let cuDevicePrimaryCtxRelease: @convention(c) (Int32) -> Result
    let cuCtxSetCurrent: @convention(c) (Handle) -> Result

    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> Result
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<UInt64>?, Int) -> Result
    let cuMemFree: @convention(c) (UInt64) -> Result
    let cuMemAllocHost: @convention(c) (VoidPointers, Int) -> Result
    let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> Result
    let cuMemcpyHtoDAsync: @convention(c) (UInt64, UnsafeRawPointer?, Int, Handle) -> Result
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int, Handle) -> Result
    let cuMemsetD8Async: @convention(c) (UInt64, UInt8, Int, Handle) -> Result

    /// (module out, image, option count, options, option values).
    let cuModuleLoadDataEx: @convention(c) (HandleOut, UnsafeRawPointer?, UInt32, UnsafeMutablePointer<Int32>?, VoidPointers) -> Result
    let cuModuleUnload: @convention(c) (Handle) -> Result
    let cuModuleGetFunction: @convention(c) (HandleOut, Handle, UnsafePointer<CChar>?) -> Result
    let cuFuncSetAttribute: @convention(c) (Handle, Int32, Int32) -> Result
    /// (function, grid x y z, block x y z, dynamic shared bytes, stream, kernel parameters, extra).
    let cuLaunchKernel: @convention(c) (
        Handle, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Handle, VoidPointers, VoidPointers
    ) -> Result

    let cuStreamCreate: @convention(c) (HandleOut, UInt32) -> Result
    let cuStreamDestroy: @convention(c) (Handle) -> Result
    let cuStreamSynchronize: @convention(c) (Handle) -> Result
    let cuStreamBeginCapture: @convention(c) (Handle, Int32) -> Result
    let cuStreamEndCapture: @convention(c) (Handle, HandleOut) -> Result
    let cuGraphInstantiateWithFlags: @convention(c) (HandleOut, Handle, UInt64) -> Result
    /// (graph exec, graph, `CUgraphExecUpdateResultInfo *`: a 24-byte struct whose first field is the result).
    let cuGraphExecUpdate: @convention(c) (Handle, Handle, UnsafeMutableRawPointer?) -> Result
    let cuGraphLaunch: @convention(c) (Handle, Handle) -> Result
    let cuGraphDestroy: @convention(c) (Handle) -> Result
    let cuGraphExecDestroy: @convention(c) (Handle) -> Result

    let cuEventCreate: @convention(c) (HandleOut, UInt32) -> Result
    let cuEventRecord: @convention(c) (Handle, Handle) -> Result
    let cuEventSynchronize: @convention(c) (Handle) -> Result
    /// The 12.x signature; drivers of CUDA 13 keep it beside `cuEventElapsedTime_v2` for compatibility.
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>?, Handle, Handle) -> Result
    let cuEventDestroy: @convention(c) (Handle) -> Result

    let cuGetErrorName: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Result
    let cuGetErrorString: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Result

    /// Resolves every entry point through `lookup` (in declaration order, so a library that is not the
    /// CUDA driver at all fails on `cuInit` first).
    init(lookup: (String) throws(InferenceError) -> UnsafeMutableRawPointer) throws(InferenceError) {
        func resolve<F>(_ name: String, _: F.Type = F.self) throws(InferenceError) -> F {
            unsafeBitCast(try lookup(name), to: F.self)
        }
        cuInit = try resolve("cuInit")
        cuDriverGetVersion = try resolve("cuDriverGetVersion")
        cuDeviceGetCount = try resolve("cuDeviceGetCount")
        cuDeviceGet = try resolve("cuDeviceGet")
        cuDeviceGetName = try resolve("cuDeviceGetName")
        cuDeviceGetAttribute = try resolve("cuDeviceGetAttribute")
        cuDeviceTotalMem = try resolve("cuDeviceTotalMem_v2")
        cuDevicePrimaryCtxRetain = try resolve("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease = try resolve("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try resolve("cuCtxSetCurrent")
        cuMemGetInfo = try resolve("cuMemGetInfo_v2")
        cuMemAlloc = try resolve("cuMemAlloc_v2")
        cuMemFree = try resolve("cuMemFree_v2")
        cuMemAllocHost = try resolve("cuMemAllocHost_v2")
        cuMemFreeHost = try resolve("cuMemFreeHost")
        cuMemcpyHtoDAsync = try resolve("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try resolve("cuMemcpyDtoHAsync_v2")
        cuMemsetD8Async = try resolve("cuMemsetD8Async")
        cuModuleLoadDataEx = try resolve("cuModuleLoadDataEx")
        cuModuleUnload = try resolve("cuModuleUnload")
        cuModuleGetFunction = try resolve("cuModuleGetFunction")
        cuFuncSetAttribute = try resolve("cuFuncSetAttribute")
        cuLaunchKernel = try resolve("cuLaunchKernel")
        cuStreamCreate = try resolve("cuStreamCreate")
        cuStreamDestroy = try resolve("cuStreamDestroy_v2")
        cuStreamSynchronize = try resolve("cuStreamSynchronize")
        cuStreamBeginCapture = try resolve("cuStreamBeginCapture_v2")
        cuStreamEndCapture = try resolve("cuStreamEndCapture")
        cuGraphInstantiateWithFlags = try resolve("cuGraphInstantiateWithFlags")
        cuGraphExecUpdate = try resolve("cuGraphExecUpdate_v2")
        cuGraphLaunch = try resolve("cuGraphLaunch")
        cuGraphDestroy = try resolve("cuGraphDestroy")
        cuGraphExecDestroy = try resolve("cuGraphExecDestroy")
        cuEventCreate = try resolve("cuEventCreate")
        cuEventRecord = try resolve("cuEventRecord")
        cuEventSynchronize = try resolve("cuEventSynchronize")
        cuEventElapsedTime = try resolve("cuEventElapsedTime")
        cuEventDestroy = try resolve("cuEventDestroy_v2")
        cuGetErrorName = try resolve("cuGetErrorName")
        cuGetErrorString = try resolve("cuGetErrorString")
    }
}

/// The cuda.h constants Warden passes (values from CUDA 12.9's cuda.h; stable across releases).
enum CUDAConstant {
    static let success: Int32 = 0                        // CUDA_SUCCESS
    static let errorNoDevice: Int32 = 100                // CUDA_ERROR_NO_DEVICE
    static let streamNonBlocking: UInt32 = 0x1           // CU_STREAM_NON_BLOCKING
    static let eventDefault: UInt32 = 0x0                // CU_EVENT_DEFAULT (timing on)
    static let eventDisableTiming: UInt32 = 0x2          // CU_EVENT_DISABLE_TIMING
    static let captureModeThreadLocal: Int32 = 1         // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
    static let funcMaxDynamicSharedBytes: Int32 = 8      // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    static let jitInfoLogBuffer: Int32 = 3               // CU_JIT_INFO_LOG_BUFFER
    static let jitInfoLogBufferSize: Int32 = 4           // CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES
    static let jitErrorLogBuffer: Int32 = 5              // CU_JIT_ERROR_LOG_BUFFER
    static let jitErrorLogBufferSize: Int32 = 6          // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
    /// The most dynamic shared memory a launch gets without raising the function's limit.
    static let defaultDynamicSharedLimit: UInt32 = 48 * 1024
}

/// `CUdevice_attribute` values Warden reads.
enum CUDADeviceAttribute: Int32 {
    case clockRateKHz = 13                  // CU_DEVICE_ATTRIBUTE_CLOCK_RATE
    case multiprocessorCount = 16           // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
    case memoryClockRateKHz = 36            // CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE
    case memoryBusWidthBits = 37            // CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH
    case l2CacheBytes = 38                  // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE
    case computeCapabilityMajor = 75        // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    case computeCapabilityMinor = 76        // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
    case maxSharedBytesPerBlockOptIn = 97   // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
}
