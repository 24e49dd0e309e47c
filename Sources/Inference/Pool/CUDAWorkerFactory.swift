/// The one place the pool names the CUDA types: discovery through the driver, and a worker's
/// `GPUBackend` on its `CUDADevice`.
enum CUDAWorkerFactory {
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
}
