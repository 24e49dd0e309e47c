#if canImport(Glibc)
import Glibc
#endif

/// One sequence's KV cache in half precision: for each layer, keys then values, each
/// [capacity positions × kvDimension]. Mapped anonymously, so only positions written take memory.
final class KVCache: @unchecked Sendable {
    let capacity: Int
    let layerCount: Int
    let kvDimension: Int
    /// Tokens cached so far.
    var length = 0
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int

    init(config: ModelConfig, capacity: Int) throws(InferenceError) {
        self.capacity = capacity
        self.layerCount = config.layerCount
        self.kvDimension = config.kvDimension
        byteCount = config.layerCount * 2 * capacity * config.kvDimension * 2
        guard let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw InferenceError(.io, "cannot map a \(byteCount)-byte KV cache for \(capacity) tokens: \(String(cString: strerror(errno)))")
        }
        base = p
    }

    deinit { munmap(base, byteCount) }

    /// Keys of `layer`: [capacity × kvDimension] halfs.
    @inline(__always) func keys(_ layer: Int) -> UnsafeMutablePointer<UInt16> {
        (base + layer * 2 * capacity * kvDimension * 2).assumingMemoryBound(to: UInt16.self)
    }

    /// Values of `layer`: [capacity × kvDimension] halfs.
    @inline(__always) func values(_ layer: Int) -> UnsafeMutablePointer<UInt16> {
        keys(layer) + capacity * kvDimension
    }

    /// Bytes resident for `length` cached tokens.
    var bytesInUse: Int { length * layerCount * 2 * kvDimension * 2 }
}

/// Activation buffers for one forward pass over up to `tokens` positions, grown on demand.
/// Shapes are row-major [token × width]; `xq` holds int8 blocks of whichever input is being multiplied.
final class Scratch: @unchecked Sendable {
    private(set) var tokens = 0
    var x: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × d] residual stream
    var xb: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × d] normed input / attention output
    var q: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × d] queries
    var k: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × kvd] keys
    var v: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × kvd] values
    var delta: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × d] Wo or Wdown output, added next phase
    var hb: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × ff] gate, then silu(gate)·up
    var hb2: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × ff] up
    var xq: UnsafeMutableRawPointer = .allocate(byteCount: 64, alignment: 64)  // [T × max(d, ff)/32] blocks
    var logits: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [S × vocab]
    var scores: UnsafeMutablePointer<Float>  // [threads × context] attention scores
    var floatScratch: UnsafeMutablePointer<Float>  // [threads × max(d, ff)] for the float-dot fallback
    let config: ModelConfig

    init(config: ModelConfig, threads: Int) {
        self.config = config
        scores = .allocate(capacity: threads * config.contextLength)
        floatScratch = .allocate(capacity: threads * max(config.embeddingLength, config.feedForwardLength))
    }

    deinit {
        for p in [x, xb, q, k, v, delta, hb, hb2, logits, scores, floatScratch] { p.deallocate() }
        xq.deallocate()
    }

    /// Makes room for `count` tokens and `outputs` logit rows.
    func reserve(tokens count: Int, outputs: Int) {
        let c = config, vocab = c.vocabularySize
        if outputs * vocab > logitCapacity {
            logits.deallocate()
            logits = .allocate(capacity: outputs * vocab)
            logitCapacity = outputs * vocab
        }
        guard count > tokens else { return }
        for p in [x, xb, q, k, v, delta, hb, hb2] { p.deallocate() }
        xq.deallocate()
        x = .allocate(capacity: count * c.embeddingLength)
        xb = .allocate(capacity: count * c.embeddingLength)
        q = .allocate(capacity: count * c.embeddingLength)
        k = .allocate(capacity: count * c.kvDimension)
        v = .allocate(capacity: count * c.kvDimension)
        delta = .allocate(capacity: count * c.embeddingLength)
        hb = .allocate(capacity: count * c.feedForwardLength)
        hb2 = .allocate(capacity: count * c.feedForwardLength)
        let blocks = (max(c.embeddingLength, c.feedForwardLength) + 31) / 32
        xq = .allocate(byteCount: count * blocks * ReferenceKernels.q8BlockBytes, alignment: 64)
        tokens = count
    }

    private var logitCapacity = 0
}
