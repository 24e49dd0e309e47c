/// A sequence whose keys and values live in one backend's KV cache.
public struct SequenceID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public var description: String { "seq\(rawValue)" }
}

/// One sequence's part of a batch: tokens to append at the end of its cache.
public struct SequenceInput: Sendable {
    /// The sequence to extend.
    public var sequence: SequenceID
    /// Tokens to append (a whole prompt for prefill, one token for a decode step); at least one.
    public var tokens: [Int32]

    public init(sequence: SequenceID, tokens: [Int32]) {
        self.sequence = sequence
        self.tokens = tokens
    }
}

/// Where a model runs: owns the weights in its memory and one KV cache per sequence.
///
/// `evaluate` runs several sequences in one pass, mixing prefills and single-token decode steps, and
/// returns the logits of each sequence's last new position. Calls on one backend must not overlap
/// (the owner, e.g. the pool's actor, serializes them); the backend may use threads inside a call.
public protocol InferenceBackend: AnyObject, Sendable {
    /// The model's hyperparameters.
    var config: ModelConfig { get }
    /// A short description for logs, e.g. `cpu (2 threads, avx512-vnni)`.
    var name: String { get }

    /// Creates an empty sequence that can hold up to `capacity` tokens (at most `config.contextLength`).
    func makeSequence(capacity: Int) throws(InferenceError) -> SequenceID
    /// Frees a sequence's cache; unknown handles are ignored.
    func releaseSequence(_ sequence: SequenceID)
    /// Number of tokens in the sequence's cache.
    func length(of sequence: SequenceID) throws(InferenceError) -> Int
    /// Drops cached positions from `length` on (to reuse a common prefix or roll back).
    func truncate(_ sequence: SequenceID, to length: Int) throws(InferenceError)
    /// Appends each input's tokens to its sequence (distinct sequences per call) and returns, in the same
    /// order, the logits (`config.vocabularySize` floats) after each input's last token.
    func evaluate(_ batch: [SequenceInput]) throws(InferenceError) -> [[Float]]
}
