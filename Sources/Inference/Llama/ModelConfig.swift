/// Hyperparameters of a llama-architecture model, read from GGUF metadata (`<arch>.*` keys).
public struct ModelConfig: Equatable, Sendable {
    /// Number of transformer blocks (`block_count`).
    public var layerCount: Int
    /// Model width d (`embedding_length`).
    public var embeddingLength: Int
    /// SwiGLU hidden width (`feed_forward_length`).
    public var feedForwardLength: Int
    /// Query heads (`attention.head_count`).
    public var headCount: Int
    /// Key/value heads (`attention.head_count_kv`; GQA when fewer than `headCount`).
    public var kvHeadCount: Int
    /// Width of one head (`embeddingLength / headCount`).
    public var headDimension: Int
    /// Vocabulary size (rows of the embedding; 0 in a config read from metadata that does not say).
    public var vocabularySize: Int
    /// Trained context length (`context_length`).
    public var contextLength: Int
    /// RoPE base frequency (`rope.freq_base`, default 10000).
    public var ropeTheta: Float
    /// RMSNorm epsilon (`attention.layer_norm_rms_epsilon`).
    public var rmsEpsilon: Float

    /// Values of KV cache per token and sequence (keys and values, all layers).
    public var kvValuesPerToken: Int { layerCount * 2 * kvHeadCount * headDimension }
    /// Width of the key (or value) vector of one layer.
    public var kvDimension: Int { kvHeadCount * headDimension }

    public init(
        layerCount: Int, embeddingLength: Int, feedForwardLength: Int, headCount: Int, kvHeadCount: Int,
        vocabularySize: Int, contextLength: Int, ropeTheta: Float, rmsEpsilon: Float
    ) {
        self.layerCount = layerCount
        self.embeddingLength = embeddingLength
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDimension = headCount > 0 ? embeddingLength / headCount : 0
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsEpsilon = rmsEpsilon
    }

    /// Reads the config of a `llama` model; throws naming the key that is missing or out of range.
    public init(metadata: GGUFMetadata) throws(InferenceError) {
        let arch = try metadata.string("general.architecture")
        guard arch == "llama" else {
            throw InferenceError(.unsupported, "architecture '\(arch)' is not supported (only 'llama')", path: metadata.path)
        }
        let heads = try metadata.int("llama.attention.head_count")
        self.init(
            layerCount: try metadata.int("llama.block_count"),
            embeddingLength: try metadata.int("llama.embedding_length"),
            feedForwardLength: try metadata.int("llama.feed_forward_length"),
            headCount: heads,
            kvHeadCount: metadata.contains("llama.attention.head_count_kv") ? try metadata.int("llama.attention.head_count_kv") : heads,
            vocabularySize: 0,
            contextLength: try metadata.int("llama.context_length"),
            ropeTheta: metadata.contains("llama.rope.freq_base") ? try metadata.float("llama.rope.freq_base") : 10000,
            rmsEpsilon: try metadata.float("llama.attention.layer_norm_rms_epsilon")
        )
        if metadata.contains("llama.vocab_size") {
            vocabularySize = try metadata.int("llama.vocab_size")
        } else if case .array(_, let tokens)? = metadata["tokenizer.ggml.tokens"] {
            vocabularySize = tokens.count
        }
        try validate(path: metadata.path)
    }

    /// Checks the values are positive, consistent and small enough to allocate for.
    public func validate(path: String? = nil) throws(InferenceError) {
        func check(_ ok: Bool, _ what: String) throws(InferenceError) {
            if !ok { throw InferenceError(.invalidConfig, what, path: path) }
        }
        try check((1...1024).contains(layerCount), "block_count \(layerCount) is out of range 1...1024")
        try check((1...65536).contains(embeddingLength), "embedding_length \(embeddingLength) is out of range")
        try check((1...262144).contains(feedForwardLength), "feed_forward_length \(feedForwardLength) is out of range")
        try check(headCount >= 1 && embeddingLength % headCount == 0, "head_count \(headCount) does not divide embedding_length \(embeddingLength)")
        try check(kvHeadCount >= 1 && headCount % kvHeadCount == 0, "head_count_kv \(kvHeadCount) does not divide head_count \(headCount)")
        try check(headDimension % 2 == 0 && headDimension <= 512, "head dimension \(headDimension) must be even and at most 512")
        try check(vocabularySize == 0 || (1...1 << 22).contains(vocabularySize), "vocabulary size \(vocabularySize) is out of range")
        try check((1...1 << 22).contains(contextLength), "context_length \(contextLength) is out of range")
        try check(ropeTheta.isFinite && ropeTheta > 0, "rope.freq_base \(ropeTheta) must be positive")
        try check(rmsEpsilon.isFinite && rmsEpsilon > 0 && rmsEpsilon < 1, "layer_norm_rms_epsilon \(rmsEpsilon) is out of range")
    }
}
