/// The kernels' module on one device: the committed PTX JIT-compiled by the driver, and one function
/// handle per ``Kernel`` case, resolved once.
struct CUDAModule {
    let module: OpaquePointer
    let functions: [Kernel: OpaquePointer]
    /// Which PTX was loaded (`compute_90` or `compute_61`), for the device's description.
    let target: String

    /// The PTX for a device: Hopper's own target from compute capability 9.0, else the portable baseline.
    /// nil for devices older than 6.1, which lack the `dp4a` the matrix kernels are built on.
    static func ptx(for capability: (major: Int, minor: Int)) -> (text: String, target: String)? {
        if capability.major >= 9 { return (KernelPTX.compute90, "compute_90") }
        if capability.major * 10 + capability.minor >= 61 { return (KernelPTX.compute61, "compute_61") }
        return nil
    }

    /// Loads `ptx` into the current context with `cuModuleLoadDataEx`, collecting the JIT's error and
    /// info logs so a failure says which line of which kernel the driver rejected.
    init(ptx: String, target: String, driver: CUDADriver) throws(InferenceError) {
        let logSize = 16 * 1024
        let errorLog = UnsafeMutablePointer<CChar>.allocate(capacity: logSize)
        let infoLog = UnsafeMutablePointer<CChar>.allocate(capacity: logSize)
        defer { errorLog.deallocate(); infoLog.deallocate() }
        errorLog.initialize(repeating: 0, count: logSize)
        infoLog.initialize(repeating: 0, count: logSize)
        var options: [Int32] = [
            CUDAConstant.jitErrorLogBuffer, CUDAConstant.jitErrorLogBufferSize,
            CUDAConstant.jitInfoLogBuffer, CUDAConstant.jitInfoLogBufferSize,
        ]
        // Each option value is passed in a pointer-sized slot: buffers as pointers, sizes as integers.
        var values: [UnsafeMutableRawPointer?] = [
            UnsafeMutableRawPointer(errorLog), UnsafeMutableRawPointer(bitPattern: logSize - 1),
            UnsafeMutableRawPointer(infoLog), UnsafeMutableRawPointer(bitPattern: logSize - 1),
        ]
        var loaded: OpaquePointer?
        let result = ptx.withCString { image in
            driver.api.cuModuleLoadDataEx(&loaded, image, UInt32(options.count), &options, &values)
        }
        guard result == CUDAConstant.success, let loaded else {
            let log = String(cString: errorLog)
            throw InferenceError(.deviceFailure, """
                cuModuleLoadDataEx (\(target) PTX, NVRTC \(KernelPTX.nvrtcVersion)) failed: \(driver.describe(result))\
                \(log.isEmpty ? "" : "; JIT log: \(log)")
                """)
        }
        var functions: [Kernel: OpaquePointer] = [:]
        for kernel in Kernel.allCases {
            var function: OpaquePointer?
            let found = kernel.rawValue.withCString { driver.api.cuModuleGetFunction(&function, loaded, $0) }
            guard found == CUDAConstant.success, let function else {
                _ = driver.api.cuModuleUnload(loaded)
                throw InferenceError(.deviceFailure, """
                    cuModuleGetFunction(\(kernel.rawValue)) failed: \(driver.describe(found)) \
                    (the committed PTX lacks the kernel: regenerate it with Scripts/build-ptx)
                    """)
            }
            functions[kernel] = function
        }
        module = loaded
        self.functions = functions
        self.target = target
    }
}
