import Foundation
import GPUTestSupport
import Testing
@testable import Inference

/// A device the GPU parity tests run on: always the emulator; a real GPU too where one is present (a
/// GPU machine running Scripts/gpu-check), so the very same comparisons check the kernels there.
struct TestDevice: Sendable, CustomStringConvertible {
    let device: any ComputeDevice
    var description: String { device.name }
}

extension GPUFixture {
    /// The emulator, plus CUDA device 0 (its own instance, calls serialized) where a driver and a GPU exist.
    /// The emulated one is not the shared backend's device: an emulated device is in recording mode
    /// while the backend records a pass, and refuses other tests' uploads meanwhile.
    static let devices: [TestDevice] = {
        var list = [TestDevice(device: EmulatedDevice(capacity: 1 << 30))]
        if let gpu = try? CUDADevice(ordinal: 0) { list.append(TestDevice(device: SerializedDevice(gpu))) }
        return list
    }()

    /// One backend on the real model per test device, made on first use.
    static func backend(on target: TestDevice) -> GPUBackend? {
        target.device === devices[0].device ? backend : realGPUBackend
    }

    private static let realGPUBackend: GPUBackend? = devices.dropFirst().first.flatMap { target in
        SharedModel.model.flatMap {
            try? GPUBackend(model: $0, device: target.device, kvMemoryBytes: blockCount * 16 * $0.config.kvValuesPerToken * 2, maxPassTokens: 64)
        }
    }
}

/// A device whose calls never overlap (CUDADevice asks its callers to serialize; concurrently running
/// tests do not), with a recursive lock so that launches inside `record` can take it again.
final class SerializedDevice: ComputeDevice, @unchecked Sendable {
    let base: any ComputeDevice
    private var mutex = pthread_mutex_t()

    init(_ base: any ComputeDevice) {
        self.base = base
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(&mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    private func locked<R>(_ body: () throws(InferenceError) -> R) throws(InferenceError) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    var name: String { base.name }
    func memoryInfo() throws(InferenceError) -> (free: Int, total: Int) { try locked { () throws(InferenceError) in try base.memoryInfo() } }
    func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer { try locked { () throws(InferenceError) in try base.allocate(byteCount) } }
    func free(_ buffer: DeviceBuffer) { try? locked { () throws(InferenceError) in base.free(buffer) } }
    func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) throws(InferenceError) {
        try locked { () throws(InferenceError) in try base.upload(bytes, to: buffer, offset: offset) }
    }
    func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws(InferenceError) {
        try locked { () throws(InferenceError) in try base.download(buffer, offset: offset, into: bytes) }
    }
    func fill(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, value: UInt8) throws(InferenceError) {
        try locked { () throws(InferenceError) in try base.fill(buffer, offset: offset, byteCount: byteCount, value: value) }
    }
    func launch(_ kernel: Kernel, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError) {
        try locked { () throws(InferenceError) in try base.launch(kernel, shape, arguments) }
    }
    func synchronize() throws(InferenceError) { try locked { () throws(InferenceError) in try base.synchronize() } }
    func record(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        try locked { () throws(InferenceError) in try base.record(body) }
    }
    func replay(_ step: RecordedStep) throws(InferenceError) { try locked { () throws(InferenceError) in try base.replay(step) } }
    func release(_ step: RecordedStep) { try? locked { () throws(InferenceError) in base.release(step) } }
}
