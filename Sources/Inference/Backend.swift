#if canImport(Glibc)
import Glibc
#endif

/// How a backend's KV memory is cut into blocks (CONTRACT: the pool and the backends share it).
///
/// The KV cache is paged (vLLM's PagedAttention): a backend owns one arena of `blockCount` blocks,
/// each holding the keys and values of `blockSize` consecutive positions of one sequence for every
/// layer. A sequence is a block table: its position `p` lives in `blocks[p / blockSize]` at offset
/// `p % blockSize`. Whoever drives the backend (the pool's scheduler, or a ``Generator`` that owns it)
/// decides which blocks a sequence uses; full blocks may be shared by sequences with the same prefix.
public struct KVLayout: Sendable, Equatable {
    /// Positions per block.
    public var blockSize: Int
    /// Blocks in the arena.
    public var blockCount: Int
    /// Bytes one block occupies (all layers, keys and values).
    public var bytesPerBlock: Int

    public init(blockSize: Int, blockCount: Int, bytesPerBlock: Int) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.bytesPerBlock = bytesPerBlock
    }

    /// Positions the whole arena holds.
    public var capacity: Int { blockSize * blockCount }

    /// Blocks needed to hold `positions` positions.
    public func blocks(for positions: Int) -> Int { (positions + blockSize - 1) / blockSize }
}

/// One sequence's part of a batch: tokens to append after the `start` positions already cached.
public struct BatchEntry: Sendable {
    /// The sequence's block table: the physical blocks holding positions `0 ..< start + tokens.count`,
    /// in order (at least `layout.blocks(for: start + tokens.count)` of them).
    public var blocks: [Int32]
    /// Positions already in the cache; the first new token goes to position `start`.
    public var start: Int
    /// Tokens to append (a prompt or a chunk of one for prefill, one token for a decode step); at least one.
    public var tokens: [Int32]
    /// Whether the caller wants the logits after the last token (false for a prefill chunk that is
    /// not a prompt's last).
    public var wantsLogits: Bool

    public init(blocks: [Int32], start: Int, tokens: [Int32], wantsLogits: Bool = true) {
        self.blocks = blocks
        self.start = start
        self.tokens = tokens
        self.wantsLogits = wantsLogits
    }
}

/// Where a model runs: owns the weights in its memory and one paged KV arena (CONTRACT).
///
/// `evaluate` runs several sequences in one pass, mixing prefill chunks and single-token decode steps,
/// writes each new position's keys and values into its block, and returns logits where asked. Calls on
/// one backend must not overlap (its owner, e.g. a pool worker, serializes them); the backend may use
/// threads inside a call. Two entries of one batch must not write the same block positions.
public protocol InferenceBackend: AnyObject, Sendable {
    /// The model's hyperparameters.
    var config: ModelConfig { get }
    /// A short description for logs, e.g. `cpu (2 threads, avx512-vnni)`.
    var name: String { get }
    /// The KV arena's layout.
    var kvLayout: KVLayout { get }

    /// Appends each entry's tokens to its sequence and returns, in the same order, the logits
    /// (`config.vocabularySize` floats) after each entry's last token, or an empty array for entries
    /// with `wantsLogits == false`. Every entry is checked before anything runs (block ids within the
    /// arena, enough blocks, positions within the context, token ids within the vocabulary), so a bad
    /// batch changes no cache and throws an error naming the entry.
    func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]]

    /// Evaluates `batch` and picks each entry's next token by `choices` (see the extension). A
    /// requirement, not only an extension method, so that a backend's own version (the GPU's, which
    /// chooses on the device) is the one called through `any InferenceBackend`.
    func evaluate(_ batch: [BatchEntry], choosing choices: [TokenChoice]) throws(InferenceError) -> [Int32]

    /// Whether a pool worker should process a step's outputs (text, stop strings, ticket events,
    /// metrics) on a second thread while it plans and evaluates the next step (vLLM's async output
    /// processing). Worth it where `evaluate` waits on a device and the host would otherwise idle;
    /// false by default (the extension). A requirement so a backend's override is the one called
    /// through `any InferenceBackend`.
    var overlapsOutputProcessing: Bool { get }
}

/// How a backend picks one entry's next token when asked to choose rather than return logits (CONTRACT).
public enum TokenChoice: Sendable, Equatable {
    /// The most likely token (the first on ties).
    case greedy
    /// A draw from softmax(logits / temperature) (temperature > 0): the first token whose running sum
    /// of probabilities, in token-id order, exceeds `uniform` (in [0, 1)).
    case sample(temperature: Float, uniform: Float)

    /// The choice over one logits row, on the host.
    public func pick(_ logits: [Float]) -> Int32 {
        switch self {
        case .greedy:
            return logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        case .sample(let temperature, let uniform):
            let peak = logits.max() ?? 0
            var weights = logits.map { expf(($0 - peak) / temperature) }
            let total = weights.reduce(0, +)
            var running: Float = 0
            for i in weights.indices {
                running += weights[i] / total
                weights[i] = running
                if running > uniform { return Int32(i) }
            }
            return Int32(max(0, logits.count - 1))
        }
    }
}

extension InferenceBackend {
    /// Output processing runs between steps, on the worker's thread.
    public var overlapsOutputProcessing: Bool { false }

    /// Evaluates `batch` and picks each entry's next token by `choices` (one per entry; every entry
    /// must want logits). Backends that can choose on the device (the GPU's argmax and sampling
    /// kernels) override this to skip copying logits back; this default picks on the host.
    public func evaluate(_ batch: [BatchEntry], choosing choices: [TokenChoice]) throws(InferenceError) -> [Int32] {
        guard choices.count == batch.count, batch.allSatisfy(\.wantsLogits) else {
            throw InferenceError(.invalidArgument, "\(choices.count) token choices for a batch of \(batch.count) entries (each must want logits)")
        }
        let rows = try evaluate(batch)
        return zip(rows, choices).map { $1.pick($0) }
    }
}
