/// Device allocations owned together: everything a ``GPUBackend`` allocates goes through one of these,
/// so a backend that fails halfway through its init, or goes away, frees all of it.
final class DeviceMemory: @unchecked Sendable {
    let device: any ComputeDevice
    private(set) var buffers: [DeviceBuffer] = []

    init(device: any ComputeDevice) { self.device = device }

    deinit {
        // Work using the buffers may still be queued; a failed wait changes nothing about freeing them.
        try? device.synchronize()
        for b in buffers { device.free(b) }
    }

    /// Allocates `byteCount` bytes (at least one, so every buffer has an address).
    func allocate(_ byteCount: Int, _ what: String) throws(InferenceError) -> DeviceBuffer {
        do throws(InferenceError) {
            let b = try device.allocate(max(1, byteCount))
            buffers.append(b)
            return b
        } catch {
            throw InferenceError(error.code, "\(device.name): cannot allocate \(byteCount) bytes for \(what): \(error.message)")
        }
    }

    /// Bytes held.
    var byteCount: Int { buffers.reduce(0) { $0 + $1.byteCount } }
}

/// Uploads a Swift array's bytes.
func upload<T>(_ values: [T], to buffer: DeviceBuffer, offset: Int = 0, on device: any ComputeDevice) throws(InferenceError) {
    guard !values.isEmpty else { return }
    let result: Result<Void, InferenceError> = values.withUnsafeBytes { bytes in
        do throws(InferenceError) { return .success(try device.upload(bytes, to: buffer, offset: offset)) } catch { return .failure(error) }
    }
    try result.get()
}

/// The buffers one forward pass of up to `tokens` positions works in; sized once, never grown.
struct PassBuffers {
    let x, xb, qkv, ffn, hidden: DeviceBuffer  // floats: residual, normed/attention out, q|k|v, gate|up, silu(gate)·up
    let xq: DeviceBuffer  // activation blocks of the normed input or the attention output
    let xqHidden: DeviceBuffer  // activation blocks of silu(gate)·up (written while xq is still read)
    let logits: DeviceBuffer  // [tokens × vocab]
    /// Per-pass ints: tokens, positions, table starts, output rows ([tokens] each, in that order).
    let step: DeviceBuffer
    /// Block tables of the pass's sequences, concatenated.
    let tables: DeviceBuffer
    /// 0, 1, ..., tokens - 1: the rows a layer's RMSNorm reads.
    let identity: DeviceBuffer
    /// Per-output-row temperature then uniform number (floats), and the chosen token ids.
    let choice, chosen: DeviceBuffer
    let tokens: Int
    let tableCapacity: Int

    /// Activation block bytes (wk_block_q8).
    static let blockBytes = 48

    init(config c: ModelConfig, tokens p: Int, tableCapacity: Int, memory: DeviceMemory) throws(InferenceError) {
        let d = c.embeddingLength, kvd = c.kvDimension, ff = c.feedForwardLength
        x = try memory.allocate(4 * p * d, "the residual stream")
        xb = try memory.allocate(4 * p * d, "normalized activations")
        qkv = try memory.allocate(4 * p * (d + 2 * kvd), "queries, keys and values")
        ffn = try memory.allocate(4 * p * 2 * ff, "the feed-forward gate and up projections")
        hidden = try memory.allocate(4 * p * ff, "the feed-forward activation")
        xq = try memory.allocate(p * (d / 32) * Self.blockBytes, "quantized activations")
        xqHidden = try memory.allocate(p * (ff / 32) * Self.blockBytes, "quantized feed-forward activations")
        logits = try memory.allocate(4 * p * c.vocabularySize, "logits")
        step = try memory.allocate(4 * 4 * p, "per-pass token data")
        tables = try memory.allocate(4 * tableCapacity, "block tables")
        identity = try memory.allocate(4 * p, "row indices")
        choice = try memory.allocate(4 * 2 * p, "sampling parameters")
        chosen = try memory.allocate(4 * p, "chosen tokens")
        tokens = p
        self.tableCapacity = tableCapacity
        try upload((0..<Int32(p)).map { $0 }, to: identity, on: memory.device)
    }

    /// Offsets within `step` of each per-token array.
    var tokensOffset: Int { 0 }
    var positionsOffset: Int { 4 * tokens }
    var tableStartOffset: Int { 8 * tokens }
    var outputRowsOffset: Int { 12 * tokens }
}
