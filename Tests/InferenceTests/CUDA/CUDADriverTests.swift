import Foundation
import Glibc
import Testing
@testable import Inference

/// The driver layer on machines without a GPU: the real "no driver" path of this machine, a library
/// that is not the driver, and a fake driver (FakeCUDADriver) for cuInit failures, old drivers,
/// discovery and the device's JIT-failure cleanup. The driver calls themselves run only on a GPU.
@Suite("CUDA driver loading and discovery")
struct CUDADriverTests {
    /// Whether this machine has an NVIDIA driver at all (CI and developer machines here do not).
    static let hasDriver: Bool = {
        guard let handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL) else { return false }
        dlclose(handle)
        return true
    }()

    @Test("no libcuda.so.1: discovery says why, and CUDADevice throws .unavailable naming the reason",
          .enabled(if: !hasDriver, "this machine has an NVIDIA driver; the no-driver path needs one without"))
    func noDriverOnThisMachine() throws {
        guard case .unavailable(let reason) = CUDADevice.discover() else {
            Issue.record("discovery found devices on a machine without libcuda.so.1")
            return
        }
        #expect(reason.contains("no NVIDIA driver"))
        #expect(reason.contains("libcuda.so.1"))
        #expect(CUDADevice.discover().devices.isEmpty)
        do {
            _ = try CUDADevice(ordinal: 0)
            Issue.record("CUDADevice opened without a driver")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message == reason)
        }
    }

    @Test("a library that is not the driver fails on its first missing symbol, cuInit")
    func missingSymbol() {
        #expect(throws: InferenceError(.unavailable, "libm.so.6 is not a usable NVIDIA driver: missing symbol cuInit")) {
            try CUDADriver(library: "libm.so.6", minimumVersion: 12090)
        }
        let discovery = CUDADevice.discover(loadResult { () throws(InferenceError) in
            try CUDADriver(library: "libm.so.6", minimumVersion: 12090)
        })
        #expect(discovery == .unavailable(reason: "libm.so.6 is not a usable NVIDIA driver: missing symbol cuInit"))
    }

    @Test("a library that does not exist is reported with the loader's reason")
    func missingLibrary() {
        do {
            _ = try CUDADriver(library: "libwarden-no-such-driver.so.1", minimumVersion: 12090)
            Issue.record("a missing library loaded")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.hasPrefix("no NVIDIA driver: libwarden-no-such-driver.so.1 could not be opened ("))
            #expect(error.message.contains("No such file"))
        }
    }

    @Test("cuInit failures name the driver's error: no device, and anything else")
    func cuInitFails() throws {
        let noDevice = try FakeCUDADriver.library(.init(initResult: 100))
        #expect(throws: InferenceError(.unavailable, "no CUDA device: cuInit reports CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)")) {
            try CUDADriver(library: noDevice, minimumVersion: 12090)
        }
        let other = try FakeCUDADriver.library(.init(initResult: 999))
        #expect(throws: InferenceError(.unavailable, "the NVIDIA driver did not start: cuInit failed with CUresult 999")) {
            try CUDADriver(library: other, minimumVersion: 12090)
        }
    }

    @Test("a driver older than the PTX's CUDA release is refused with both versions")
    func oldDriver() throws {
        let old = try FakeCUDADriver.library(.init(version: 12020))
        do {
            _ = try CUDADriver(library: old, minimumVersion: 12090)
            Issue.record("a CUDA 12.2 driver was accepted for 12.9 PTX")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("supports CUDA 12.2"))
            #expect(error.message.contains("needs CUDA 12.9 or newer"))
        }
        #expect(try CUDADriver(library: old, minimumVersion: 12020).version == 12020)
    }

    @Test("discovery lists each device with its attributes; unreported ones are zero, not failures")
    func discoveryListsDevices() throws {
        let path = try FakeCUDADriver.library(.init(version: 13000, deviceCount: 2))
        let discovery = CUDADevice.discover(loadResult { () throws(InferenceError) in
            try CUDADriver(library: path, minimumVersion: 12090)
        })
        let devices = discovery.devices
        try #require(devices.count == 2)
        #expect(devices.map(\.ordinal) == [0, 1])
        #expect(devices[1].name == "Fake GPU 1")
        #expect(devices[0].computeCapability == (9, 0))
        #expect(devices[0].architecture == "sm_90")
        #expect(devices[0].totalMemory == 80 << 30)
        #expect(devices[0].multiprocessorCount == 132)
        #expect(devices[0].memoryBusWidthBits == 6144)
        #expect(devices[0].memoryClockKHz == 0)
        #expect(devices[0].peakBandwidthBytesPerSecond == nil)
        #expect(devices[0].maxSharedBytesPerBlock == 227 << 10)
        #expect(devices[0].driverVersion == 13000)
        #expect(devices[0].summary == "cuda:0 (Fake GPU 0, sm_90, 80 GiB)")

        let none = try FakeCUDADriver.library(.init(deviceCount: 0))
        let empty = CUDADevice.discover(loadResult { () throws(InferenceError) in
            try CUDADriver(library: none, minimumVersion: 12090)
        })
        #expect(empty == .unavailable(reason: "the NVIDIA driver reports no CUDA devices"))
    }

    @Test("the peak bandwidth bound: two transfers per memory clock over the whole bus")
    func bandwidthBound() {
        // H200-like numbers: 2619 MHz HBM3e clock (as the driver reports it), 6144-bit bus.
        let info = CUDADeviceInfo(
            ordinal: 0, name: "x", computeCapability: (9, 0), totalMemory: 1, multiprocessorCount: 132,
            memoryClockKHz: 2_619_000, memoryBusWidthBits: 6144, l2CacheBytes: 0, maxSharedBytesPerBlock: 0,
            driverVersion: 13000)
        #expect(info.peakBandwidthBytesPerSecond == 4.022_784e12)  // 2 × 2.619 GHz × 768 bytes
    }
}

/// A driver load as the `Result` discovery takes.
func loadResult(_ body: () throws(InferenceError) -> CUDADriver) -> Result<CUDADriver, InferenceError> {
    do throws(InferenceError) { return .success(try body()) } catch { return .failure(error) }
}
