/// One CUDA device as the driver describes it: what device placement and the benchmark's bounds need.
public struct CUDADeviceInfo: Sendable, Equatable {
    /// The driver's device ordinal (`cuDeviceGet`), the `N` of `cuda:N`.
    public let ordinal: Int
    /// The marketing name, e.g. `NVIDIA H200`.
    public let name: String
    /// Compute capability, e.g. (9, 0) for Hopper.
    public let computeCapability: (major: Int, minor: Int)
    /// Device memory in bytes (`cuDeviceTotalMem`).
    public let totalMemory: Int
    public let multiprocessorCount: Int
    /// Peak memory clock in kHz and bus width in bits; 0 where the driver does not report them.
    public let memoryClockKHz: Int
    public let memoryBusWidthBits: Int
    public let l2CacheBytes: Int
    /// The most shared memory one block may opt in to (`cuFuncSetAttribute` above 48 KiB).
    public let maxSharedBytesPerBlock: Int
    /// The driver's CUDA version, 1000 × major + 10 × minor (e.g. 13000).
    public let driverVersion: Int

    /// A description as discovery makes it (public so that placement tests can describe devices).
    public init(
        ordinal: Int, name: String, computeCapability: (major: Int, minor: Int), totalMemory: Int,
        multiprocessorCount: Int, memoryClockKHz: Int, memoryBusWidthBits: Int, l2CacheBytes: Int,
        maxSharedBytesPerBlock: Int, driverVersion: Int
    ) {
        self.ordinal = ordinal
        self.name = name
        self.computeCapability = computeCapability
        self.totalMemory = totalMemory
        self.multiprocessorCount = multiprocessorCount
        self.memoryClockKHz = memoryClockKHz
        self.memoryBusWidthBits = memoryBusWidthBits
        self.l2CacheBytes = l2CacheBytes
        self.maxSharedBytesPerBlock = maxSharedBytesPerBlock
        self.driverVersion = driverVersion
    }

    /// `sm_90` for compute capability 9.0.
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// The peak memory bandwidth implied by the clock and bus width: double data rate, so two transfers
    /// per clock (for HBM the driver's clock is the one this formula expects). nil when not reported.
    /// A bound to compare measurements against, not a measurement; vendor datasheets may round it.
    public var peakBandwidthBytesPerSecond: Double? {
        guard memoryClockKHz > 0, memoryBusWidthBits > 0 else { return nil }
        return 2 * Double(memoryClockKHz) * 1000 * Double(memoryBusWidthBits / 8)
    }

    /// `cuda:0 (NVIDIA H200, sm_90, 139 GiB)`.
    public var summary: String {
        "cuda:\(ordinal) (\(name), \(architecture), \(totalMemory >> 30) GiB)"
    }

    public static func == (a: CUDADeviceInfo, b: CUDADeviceInfo) -> Bool {
        a.ordinal == b.ordinal && a.name == b.name && a.computeCapability == b.computeCapability
            && a.totalMemory == b.totalMemory && a.multiprocessorCount == b.multiprocessorCount
            && a.memoryClockKHz == b.memoryClockKHz && a.memoryBusWidthBits == b.memoryBusWidthBits
            && a.l2CacheBytes == b.l2CacheBytes && a.maxSharedBytesPerBlock == b.maxSharedBytesPerBlock
            && a.driverVersion == b.driverVersion
    }
}

/// What ``CUDADevice/discover()`` found: the devices, or why there are none.
public enum CUDADiscovery: Sendable, Equatable {
    /// At least one device, in ordinal order.
    case devices([CUDADeviceInfo])
    /// No usable device, and why (no driver, no device, an old driver): an info-level message, not an
    /// error, on a machine without a GPU.
    case unavailable(reason: String)

    /// The devices found (empty when unavailable).
    public var devices: [CUDADeviceInfo] {
        if case .devices(let list) = self { return list }
        return []
    }
}

extension CUDADevice {
    /// Lists the CUDA devices of this machine, or says why there are none. Never traps and never prints:
    /// on a machine without an NVIDIA driver this is `.unavailable` with the reason.
    public static func discover() -> CUDADiscovery {
        discover(CUDADriver.shared)
    }

    /// Discovery over a given load result (tests pass a driver loaded from another library).
    static func discover(_ loaded: Result<CUDADriver, InferenceError>) -> CUDADiscovery {
        switch loaded {
        case .failure(let error):
            return .unavailable(reason: error.message)
        case .success(let driver):
            do throws(InferenceError) {
                var count: Int32 = 0
                try driver.check(driver.api.cuDeviceGetCount(&count), "cuDeviceGetCount")
                guard count > 0 else { return .unavailable(reason: "the NVIDIA driver reports no CUDA devices") }
                var found: [CUDADeviceInfo] = []
                for ordinal in 0..<Int(count) { found.append(try describe(ordinal: ordinal, driver: driver)) }
                return .devices(found)
            } catch {
                return .unavailable(reason: "CUDA devices could not be listed: \(error.message)")
            }
        }
    }

    /// Reads one device's name, memory and attributes.
    static func describe(ordinal: Int, driver: CUDADriver) throws(InferenceError) -> CUDADeviceInfo {
        let api = driver.api
        var device: Int32 = 0
        try driver.check(api.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        var nameBytes = [CChar](repeating: 0, count: 256)
        try driver.check(api.cuDeviceGetName(&nameBytes, Int32(nameBytes.count - 1), device), "cuDeviceGetName")
        var total = 0
        try driver.check(api.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem_v2")
        func attribute(_ which: CUDADeviceAttribute) throws(InferenceError) -> Int {
            var value: Int32 = 0
            try driver.check(api.cuDeviceGetAttribute(&value, which.rawValue, device), "cuDeviceGetAttribute(\(which))")
            return Int(value)
        }
        /// The memory clock and bus width only bound the benchmark; a driver that stops reporting them
        /// (CUDA 13 deprecates the clock in the runtime's properties) must not hide the device.
        func optionalAttribute(_ which: CUDADeviceAttribute) -> Int {
            var value: Int32 = 0
            return api.cuDeviceGetAttribute(&value, which.rawValue, device) == CUDAConstant.success ? Int(value) : 0
        }
        return CUDADeviceInfo(
            ordinal: ordinal, name: String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            computeCapability: (try attribute(.computeCapabilityMajor), try attribute(.computeCapabilityMinor)),
            totalMemory: total, multiprocessorCount: try attribute(.multiprocessorCount),
            memoryClockKHz: optionalAttribute(.memoryClockRateKHz), memoryBusWidthBits: optionalAttribute(.memoryBusWidthBits),
            l2CacheBytes: optionalAttribute(.l2CacheBytes), maxSharedBytesPerBlock: optionalAttribute(.maxSharedBytesPerBlockOptIn),
            driverVersion: Int(driver.version)
        )
    }
}
