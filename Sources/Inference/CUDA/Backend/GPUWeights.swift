/// A quantized matrix in device memory, in the GGUF layout as is (the kernels read it raw): `rows` rows
/// of `cols / 32` blocks starting `offset` bytes into the weights buffer. A fused matrix is several of
/// the model's matrices of one type and width stacked row after row (Q, K and V; gate and up), so one
/// launch computes all of them.
struct GPUMatrix: Sendable {
    let offset: Int
    let type: GGMLType
    let rows: Int
    let cols: Int
    /// Which kernel multiplies it.
    var kernel: Kernel { type == .q4_1 ? .matmulQ4_1 : .matmulQ8_0 }
}

/// The model's weights uploaded once into one device buffer, and where each tensor landed.
struct GPUWeights {
    struct Layer {
        let attentionNorm, ffnNorm: Int  // float vectors, byte offsets
        /// Q, K and V: one fused matrix when they share a type, otherwise three (outputs at columns 0, d, d + kvd).
        let qkv: [GPUMatrix]
        let output: GPUMatrix
        /// Gate and up: one matrix of their rows interleaved in 32-row chunks when they share a type (for
        /// wk_matmul_swiglu_dp4a), otherwise two (outputs at columns 0 and ff, then wk_swiglu_quantize).
        let gateUp: [GPUMatrix]
        let down: GPUMatrix
    }

    let buffer: DeviceBuffer
    let layers: [Layer]
    /// Token embedding (any of F32, F16, Q4_1, Q8_0) and the output head (the same bytes when tied).
    let embedding: GPUMatrix
    let head: GPUMatrix
    let outputNorm: Int
    /// RoPE's θ^(−2i/hd), computed on the host exactly as the CPU engine does.
    let inverseFrequencies: Int
    /// Bytes uploaded.
    let byteCount: Int

    /// Types the matrix kernels take.
    static let matrixTypes: Set<GGMLType> = [.q4_1, .q8_0]

    /// Uploads `model`; `fusing` stacks Q|K|V and interleaves gate|up where their types allow (false
    /// keeps every matrix alone, the path of mixed-type models, so tests can run it on any model).
    init(model: LlamaModel, memory: DeviceMemory, fusing: Bool = true) throws(InferenceError) {
        let matrices = model.layers.flatMap { [$0.query, $0.key, $0.value, $0.output, $0.gate, $0.up, $0.down] } + [model.outputHead]
        if let bad = matrices.first(where: { !Self.matrixTypes.contains($0.type) }) {
            throw InferenceError(.unsupported, "the GPU backend multiplies only Q4_1 and Q8_0 matrices; '\(bad.name)' is \(bad.type)", path: model.file.path)
        }
        var plan = UploadPlan()
        let c = model.config
        let inverse = c.ropeInverseFrequencies
        layers = model.layers.map { w in
            Layer(attentionNorm: plan.add(UnsafeRawBufferPointer(w.attentionNorm)), ffnNorm: plan.add(UnsafeRawBufferPointer(w.ffnNorm)),
                  qkv: fusing ? plan.addFused([w.query, w.key, w.value]) : [w.query, w.key, w.value].map { plan.add($0) },
                  output: plan.add(w.output),
                  gateUp: fusing ? plan.addInterleaved(w.gate, w.up) : [plan.add(w.gate), plan.add(w.up)], down: plan.add(w.down))
        }
        embedding = plan.add(model.tokenEmbedding)
        head = model.outputHead.name == model.tokenEmbedding.name ? embedding : plan.add(model.outputHead)
        outputNorm = plan.add(UnsafeRawBufferPointer(model.outputNorm))
        inverseFrequencies = inverse.withUnsafeBytes { plan.add($0, copying: true) }
        byteCount = plan.size
        buffer = try memory.allocate(plan.size, "the model's weights")
        for piece in plan.pieces {
            if let copy = piece.copy {
                try upload(copy, to: buffer, offset: piece.offset, on: memory.device)
            } else {
                try memory.device.upload(piece.bytes, to: buffer, offset: piece.offset)
            }
        }
    }
}

/// Where each tensor goes in the weights buffer (256-byte aligned pieces), collected before allocating.
private struct UploadPlan {
    struct Piece {
        let offset: Int
        let bytes: UnsafeRawBufferPointer
        /// A copy of host bytes that do not outlive the plan (the inverse frequencies).
        let copy: [UInt8]?
    }
    var pieces: [Piece] = []
    var size = 0

    /// Places `bytes` (the model's mapped file, alive as long as the model) and returns its offset.
    mutating func add(_ bytes: UnsafeRawBufferPointer, copying: Bool = false) -> Int {
        let offset = (size + 255) / 256 * 256
        pieces.append(Piece(offset: offset, bytes: copying ? UnsafeRawBufferPointer(start: nil, count: 0) : bytes,
                            copy: copying ? Array(bytes) : nil))
        size = offset + bytes.count
        return offset
    }

    mutating func add(_ m: WeightMatrix) -> GPUMatrix {
        GPUMatrix(offset: add(m.data), type: m.type, rows: m.rows, cols: m.cols)
    }

    /// Gate and up as one matrix whose rows alternate in 32-row chunks (a host copy, uploaded once), when
    /// they share type and shape (and the rows are whole chunks); each alone otherwise.
    mutating func addInterleaved(_ gate: WeightMatrix, _ up: WeightMatrix) -> [GPUMatrix] {
        guard gate.type == up.type, gate.rows == up.rows, gate.cols == up.cols, gate.rows % 32 == 0 else { return [add(gate), add(up)] }
        let bytes = GPUWeights.interleaved(gate.data, up.data, rows: gate.rows)
        let offset = bytes.withUnsafeBytes { add($0, copying: true) }
        return [GPUMatrix(offset: offset, type: gate.type, rows: 2 * gate.rows, cols: gate.cols)]
    }

    /// One matrix of all of `ms` stacked when they share type and width (rows back to back), else each alone.
    mutating func addFused(_ ms: [WeightMatrix]) -> [GPUMatrix] {
        guard let first = ms.first, ms.allSatisfy({ $0.type == first.type && $0.cols == first.cols }) else { return ms.map { add($0) } }
        let offset = (size + 255) / 256 * 256
        var at = offset
        for m in ms {
            pieces.append(Piece(offset: at, bytes: m.data, copy: nil))
            at += m.data.count
        }
        size = at
        return [GPUMatrix(offset: offset, type: first.type, rows: ms.reduce(0) { $0 + $1.rows }, cols: first.cols)]
    }
}

extension GPUWeights {
    /// Rows of `a` and `b` (equal shapes) alternating in chunks of 32: a's 0-31, b's 0-31, a's 32-63, ...
    static func interleaved(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, rows: Int) -> [UInt8] {
        let chunk = a.count / rows * 32
        var out: [UInt8] = []
        out.reserveCapacity(2 * a.count)
        for start in stride(from: 0, to: a.count, by: chunk) {
            out += a[start..<start + chunk]
            out += b[start..<start + chunk]
        }
        return out
    }
}
