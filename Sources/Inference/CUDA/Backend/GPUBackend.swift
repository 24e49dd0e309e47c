import Synchronization

/// The llama forward pass on a ``ComputeDevice``: a CUDA GPU through ``CUDADevice``, or the tests'
/// emulator, which runs the same kernel source on the host.
///
/// The weights are uploaded once, raw (GGUF Q4_1/Q8_0 blocks, which the int8 kernels read as they are);
/// the paged KV arena lives in device memory; the activation buffers are sized once for `maxPassTokens`.
/// A pass uploads its tokens, positions and block tables into fixed buffers, so with `graphs` the
/// launches of a pass are recorded once per batch shape (tokens, output rows) and replayed at every
/// later pass of that shape; ``evaluate(_:choosing:)`` picks tokens on the device and copies back only ids.
public final class GPUBackend: InferenceBackend, @unchecked Sendable {
    public let model: LlamaModel
    public var config: ModelConfig { model.config }
    public let name: String
    public let kvLayout: KVLayout
    public let device: any ComputeDevice
    /// Tokens one pass holds at most (longer batches run in several passes).
    public let maxPassTokens: Int
    /// Whether passes are recorded and replayed.
    public let usesGraphs: Bool
    /// True: a pass blocks the worker's thread on the device, so the pool processes the previous
    /// step's outputs on another thread meanwhile.
    public var overlapsOutputProcessing: Bool { true }

    let memory: DeviceMemory
    let weights: GPUWeights
    let buffers: PassBuffers
    let arena: DeviceBuffer
    /// Serializes passes and guards the recordings and counters.
    let lock = Mutex(())
    nonisolated(unsafe) var recordings: RecordingCache
    nonisolated(unsafe) var tally = GPUCounters()

    /// Warps per block of the matmul, attention and row kernels (see the kernel sources' launch notes).
    static let warps = 4
    /// Recordings kept (past it, the least recently used is updated into the new shape).
    public static let recordingLimit = 32
    /// Share of the free device memory the KV arena takes when no size is given.
    static let freeMemoryShare = 0.9

    /// Uploads `model` to `device`. The KV arena holds `kvMemoryBytes` (whole blocks of `blockSize`
    /// positions) or, when nil, 90% of the device memory still free after the weights and activation
    /// buffers, capped at `maxPassTokens` full contexts (a pass cannot decode more sequences than that).
    /// Throws `.unsupported` for a model with matrices the kernels lack (other than Q4_1 and Q8_0).
    public convenience init(model: LlamaModel, device: any ComputeDevice, kvMemoryBytes: Int? = nil, blockSize: Int = 16,
                            maxPassTokens: Int = 256, graphs: Bool = true) throws(InferenceError) {
        try self.init(model: model, device: device, kvMemoryBytes: kvMemoryBytes, blockSize: blockSize, maxPassTokens: maxPassTokens,
                      graphs: graphs, fusing: true)
    }

    /// The same, choosing whether matrices are fused (false runs the unfused launch sequence of
    /// mixed-type models on any model, for tests).
    init(model: LlamaModel, device: any ComputeDevice, kvMemoryBytes: Int?, blockSize: Int, maxPassTokens: Int, graphs: Bool,
         fusing: Bool) throws(InferenceError) {
        let c = model.config
        guard (1...1024).contains(blockSize) else {
            throw InferenceError(.invalidArgument, "a KV block holds 1...1024 positions (got \(blockSize))")
        }
        let blockStride = 2 * blockSize * c.kvDimension * c.layerCount
        guard blockStride <= Int(Int32.max), c.vocabularySize * 4 <= Int(Int32.max) else {
            throw InferenceError(.unsupported, "the model is too large for the GPU kernels' 32-bit offsets")
        }
        self.model = model
        self.device = device
        self.maxPassTokens = max(1, min(maxPassTokens, 4096))
        usesGraphs = graphs
        memory = DeviceMemory(device: device)
        weights = try GPUWeights(model: model, memory: memory, fusing: fusing)
        let contextBlocks = (c.contextLength + blockSize - 1) / blockSize
        buffers = try PassBuffers(config: c, tokens: self.maxPassTokens, tableCapacity: self.maxPassTokens * contextBlocks, memory: memory)
        let perBlock = c.kvValuesPerToken * 2 * blockSize
        let blocks = try Self.kvBlocks(perBlock: perBlock, bytes: kvMemoryBytes, cap: self.maxPassTokens * contextBlocks, device: device)
        kvLayout = KVLayout(blockSize: blockSize, blockCount: blocks, bytesPerBlock: perBlock)
        arena = try memory.allocate(blocks * perBlock, "a KV arena of \(blocks) blocks")
        recordings = RecordingCache(limit: Self.recordingLimit)
        tally.weightBytes = weights.byteCount
        tally.kvBlocks = blocks
        name = "gpu (\(device.name), \(blocks) KV blocks of \(blockSize), graphs \(graphs ? "on" : "off"))"
    }

    /// Blocks of `perBlock` bytes in `bytes`, or when nil in 90% of the device's free memory, at most `cap`.
    private static func kvBlocks(perBlock: Int, bytes: Int?, cap: Int, device: any ComputeDevice) throws(InferenceError) -> Int {
        if let bytes {
            guard bytes >= perBlock else {
                throw InferenceError(.invalidArgument, "\(device.name): a KV memory of \(bytes) bytes holds no block (\(perBlock) bytes each)")
            }
            return bytes / perBlock
        }
        let free = try device.memoryInfo().free, blocks = min(Int(Double(free) * freeMemoryShare) / perBlock, cap)
        guard blocks >= 1 else {
            throw InferenceError(.invalidArgument, "\(device.name): \(free) bytes free after the weights hold no KV block (\(perBlock) bytes each)")
        }
        return blocks
    }

    deinit {
        recordings.removeAll(device)
    }

    /// Counters for tests and benchmarks.
    public var counters: GPUCounters { lock.withLock { _ in tally } }
}

/// What a ``GPUBackend`` has done so far.
public struct GPUCounters: Sendable, Equatable {
    /// Passes run.
    public var passes = 0
    /// Batch shapes recorded, and passes that replayed a recording.
    public var recordingsMade = 0
    public var replays = 0
    /// Kernel launches in the most recent pass (the forward pass; a device-side choice adds one more).
    public var launchesLastPass = 0
    /// Bytes of weights uploaded, and blocks of the KV arena.
    public var weightBytes = 0
    public var kvBlocks = 0
}
