/// A weight matrix of `rows` rows by `cols` columns, as stored in the GGUF file (`ne = [cols, rows]`).
public struct WeightMatrix: @unchecked Sendable {
    /// Tensor name in the file.
    public let name: String
    /// Element type (F32, F16, Q4_1 or Q8_0).
    public let type: GGMLType
    /// Output size (ne1).
    public let rows: Int
    /// Input size (ne0, contiguous).
    public let cols: Int
    /// The tensor's bytes inside the mapped file.
    public let data: UnsafeRawBufferPointer

    /// Whether the int8 kernels take this matrix (quantized activations); F32/F16 use float dot products.
    public var usesQuantizedActivations: Bool { type == .q4_1 || type == .q8_0 }
}

/// The tensors of one transformer block.
public struct LayerWeights: @unchecked Sendable {
    public let attentionNorm: UnsafeBufferPointer<Float>  // [d]
    public let query: WeightMatrix  // [d rows × d]
    public let key: WeightMatrix  // [kvd rows × d]
    public let value: WeightMatrix  // [kvd rows × d]
    public let output: WeightMatrix  // [d rows × d]
    public let ffnNorm: UnsafeBufferPointer<Float>  // [d]
    public let gate: WeightMatrix  // [ff rows × d]
    public let up: WeightMatrix  // [ff rows × d]
    public let down: WeightMatrix  // [d rows × ff]
}

/// A llama-architecture model: its config and its weights, mapped from a GGUF file (not copied).
public final class LlamaModel: @unchecked Sendable {
    /// The file the weights live in (kept alive as long as the model).
    public let file: GGUFFile
    /// Hyperparameters.
    public let config: ModelConfig
    /// Token embedding table [vocab rows × d].
    public let tokenEmbedding: WeightMatrix
    /// Blocks, first to last.
    public let layers: [LayerWeights]
    /// Final norm [d].
    public let outputNorm: UnsafeBufferPointer<Float>
    /// Output head [vocab rows × d]; the token embedding when the file ties them (no `output.weight`).
    public let outputHead: WeightMatrix

    /// Loads from a parsed GGUF file: checks every tensor's presence, type and shape against the config.
    public init(file: GGUFFile) throws(InferenceError) {
        var config = try ModelConfig(metadata: file.metadata)
        let loader = TensorLoader(file: file)
        let d = config.embeddingLength
        let embedding = try loader.matrix("token_embd.weight", cols: d, rows: nil)
        if config.vocabularySize != 0 && config.vocabularySize != embedding.rows {
            throw InferenceError(.shapeMismatch, "token_embd.weight has \(embedding.rows) rows but the vocabulary has \(config.vocabularySize) tokens", path: file.path)
        }
        config.vocabularySize = embedding.rows
        let kvd = config.kvDimension, ff = config.feedForwardLength
        var layers: [LayerWeights] = []
        for l in 0..<config.layerCount {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try loader.vector(p + "attn_norm.weight", count: d),
                query: try loader.matrix(p + "attn_q.weight", cols: d, rows: d),
                key: try loader.matrix(p + "attn_k.weight", cols: d, rows: kvd),
                value: try loader.matrix(p + "attn_v.weight", cols: d, rows: kvd),
                output: try loader.matrix(p + "attn_output.weight", cols: d, rows: d),
                ffnNorm: try loader.vector(p + "ffn_norm.weight", count: d),
                gate: try loader.matrix(p + "ffn_gate.weight", cols: d, rows: ff),
                up: try loader.matrix(p + "ffn_up.weight", cols: d, rows: ff),
                down: try loader.matrix(p + "ffn_down.weight", cols: ff, rows: d)))
        }
        self.file = file
        self.config = config
        self.tokenEmbedding = embedding
        self.layers = layers
        self.outputNorm = try loader.vector("output_norm.weight", count: d)
        self.outputHead = file.tensorInfo(named: "output.weight") == nil
            ? embedding : try loader.matrix("output.weight", cols: d, rows: config.vocabularySize)
    }

    /// Maps and loads the model at `path`.
    public convenience init(path: String) throws(InferenceError) {
        try self.init(file: GGUFFile(path: path))
    }
}

/// Looks tensors up by name and checks type and shape, with errors naming the tensor.
struct TensorLoader {
    let file: GGUFFile

    func matrix(_ name: String, cols: Int, rows: Int?) throws(InferenceError) -> WeightMatrix {
        let t = try file.tensor(named: name)
        guard t.type.isImplemented else {
            throw InferenceError(.unsupported, "tensor '\(name)' has type \(t.type), which this engine does not implement (F32, F16, Q4_1, Q8_0)", path: file.path)
        }
        guard t.shape.count == 2, t.shape[0] == cols, rows == nil || t.shape[1] == rows else {
            throw InferenceError(.shapeMismatch, "tensor '\(name)' has shape \(t.shape), expected [\(cols), \(rows.map(String.init) ?? "n")]", path: file.path)
        }
        return WeightMatrix(name: name, type: t.type, rows: t.shape[1], cols: cols, data: t.data)
    }

    func vector(_ name: String, count: Int) throws(InferenceError) -> UnsafeBufferPointer<Float> {
        let t = try file.tensor(named: name)
        guard t.type == .f32 else {
            throw InferenceError(.unsupported, "tensor '\(name)' has type \(t.type); norm weights must be F32", path: file.path)
        }
        guard t.info.elementCount == count, t.shape[0] == count else {
            throw InferenceError(.shapeMismatch, "tensor '\(name)' has shape \(t.shape), expected [\(count)]", path: file.path)
        }
        guard let base = t.data.baseAddress, Int(bitPattern: base) % 4 == 0 else {
            throw InferenceError(.malformedFile, "tensor '\(name)' is not 4-byte aligned", path: file.path)
        }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count)
    }
}
