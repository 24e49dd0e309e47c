/// How the pool finds GPUs and makes a worker's backend on one: the seam between the pool's
/// placement and the CUDA code, so tests can stand in for a machine with GPUs.
public struct GPUSupport: Sendable {
    /// Lists the usable GPUs, or says why there are none.
    public var discover: @Sendable () -> GPUDiscovery
    /// Makes a backend for `model` on GPU `ordinal` with a KV budget (bytes), a block size (positions)
    /// and the most tokens one pass evaluates (the pool's `maxBatchTokens`).
    public var makeBackend: @Sendable (_ model: LlamaModel, _ ordinal: Int, _ kvMemoryBytes: Int, _ blockSize: Int,
                                       _ maxPassTokens: Int) throws(InferenceError) -> any InferenceBackend

    public init(discover: @escaping @Sendable () -> GPUDiscovery,
                makeBackend: @escaping @Sendable (_ model: LlamaModel, _ ordinal: Int, _ kvMemoryBytes: Int, _ blockSize: Int,
                                                  _ maxPassTokens: Int) throws(InferenceError) -> any InferenceBackend) {
        self.discover = discover
        self.makeBackend = makeBackend
    }

    /// NVIDIA GPUs through the CUDA driver (`CUDAWorkerFactory.swift`).
    public static let cuda = GPUSupport(discover: CUDAWorkerFactory.discover, makeBackend: CUDAWorkerFactory.makeBackend)
}

extension LoadedModel {
    /// The pool's backend factory over these weights: `GPUBackend` on a worker's GPU, `CPUBackend`
    /// (with `threads`) on the CPU.
    public func poolBackends(gpu: GPUSupport, maxPassTokens: Int, threads: Int? = nil) -> PoolBackendFactory {
        let llama = self.llama
        return { [self] (device: WorkerDevice, kvMemoryBytes: Int, blockSize: Int) throws(InferenceError) -> any InferenceBackend in
            switch device {
            case .cpu:
                return try makeBackend(kvMemoryBytes: kvMemoryBytes, blockSize: blockSize, threads: threads)
            case .gpu(let ordinal):
                return try gpu.makeBackend(llama, ordinal, kvMemoryBytes, blockSize, maxPassTokens)
            }
        }
    }
}
