/// The one place the pool names the CUDA types: discovery through the driver, and a worker's
/// `GPUBackend` on its `CUDADevice`.
///
/// MERGE: `CUDADevice` (Inference/CUDA/Driver) and `GPUBackend` (Inference/CUDA/Backend) are written
/// in parallel with this file, so the code that uses them is compiled only with the
/// `WARDEN_CUDA_BACKEND` condition (set in Package.swift once both have landed, or this `#if`
/// removed). Without it, discovery reports that this build has no CUDA backend and every pool runs on
/// the CPU, which is the truth for such a build.
enum CUDAWorkerFactory {
    #if WARDEN_CUDA_BACKEND
    /// The GPUs the CUDA driver reports, or why there are none (no libcuda.so.1, no device, an old
    /// driver: `CUDADevice.discover()` words the reason).
    @Sendable static func discover() -> GPUDiscovery {
        switch CUDADevice.discover() {
        case .devices(let devices):
            return .available(devices.map { GPUDiscovery.GPU(ordinal: $0.ordinal, name: $0.summary) })
        case .unavailable(let reason):
            return .unavailable(reason: reason)
        }
    }

    /// `GPUBackend` on GPU `ordinal`, with graph replay.
    @Sendable static func makeBackend(_ model: LlamaModel, _ ordinal: Int, _ kvMemoryBytes: Int, _ blockSize: Int,
                                      _ maxPassTokens: Int) throws(InferenceError) -> any InferenceBackend {
        let device = try CUDADevice(ordinal: ordinal)
        return try GPUBackend(model: model, device: device, kvMemoryBytes: kvMemoryBytes, blockSize: blockSize,
                              maxPassTokens: maxPassTokens, graphs: true)
    }
    #else
    static let missing = "this build of warden has no CUDA backend"

    @Sendable static func discover() -> GPUDiscovery { .unavailable(reason: missing) }

    @Sendable static func makeBackend(_ model: LlamaModel, _ ordinal: Int, _ kvMemoryBytes: Int, _ blockSize: Int,
                                      _ maxPassTokens: Int) throws(InferenceError) -> any InferenceBackend {
        throw InferenceError(.unsupported, "GPU \(ordinal): \(missing)")
    }
    #endif
}
