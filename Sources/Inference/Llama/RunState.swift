#if canImport(Glibc)
import Glibc
#endif

/// The paged KV cache in half precision: `blockCount` blocks, each holding, for every layer, the keys
/// then the values of `blockSize` consecutive positions of one sequence ([blockSize × kvDimension] each).
/// Mapped anonymously without reserving swap, so only blocks written take memory.
final class KVArena: @unchecked Sendable {
    let layout: KVLayout
    let layerCount: Int
    let kvDimension: Int
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int

    /// An arena of `blockCount` blocks of `blockSize` positions.
    init(config: ModelConfig, blockSize: Int, blockCount: Int) throws(InferenceError) {
        guard blockSize >= 1, blockSize <= 1024, blockCount >= 1 else {
            throw InferenceError(.invalidArgument, "a KV arena needs a block size within 1...1024 and at least one block (got \(blockSize) and \(blockCount))")
        }
        layerCount = config.layerCount
        kvDimension = config.kvDimension
        let perBlock = config.kvValuesPerToken * 2 * blockSize
        let (bytes, overflow) = perBlock.multipliedReportingOverflow(by: blockCount)
        guard !overflow, bytes <= 1 << 46 else {
            throw InferenceError(.invalidArgument, "a KV arena of \(blockCount) blocks × \(perBlock) bytes is too large")
        }
        layout = KVLayout(blockSize: blockSize, blockCount: blockCount, bytesPerBlock: perBlock)
        byteCount = bytes
        guard let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED else {
            throw InferenceError(.io, "cannot map a \(byteCount)-byte KV arena (\(blockCount) blocks): \(String(cString: strerror(errno)))")
        }
        base = p
    }

    deinit { munmap(base, byteCount) }

    /// Halfs from one block to the next.
    var blockStride: Int { 2 * layout.blockSize * kvDimension * layerCount }

    /// The arena's first half; block `b`, layer `l` keys start at `blockStride * b + keyOffset(l)`.
    @inline(__always) var halfs: UnsafeMutablePointer<UInt16> { base.assumingMemoryBound(to: UInt16.self) }

    /// Offset of layer `l`'s keys within a block, in halfs (its values follow `valueOffset` later).
    @inline(__always) func keyOffset(_ l: Int) -> Int { l * 2 * layout.blockSize * kvDimension }

    /// Halfs from a key row to its value row.
    @inline(__always) var valueOffset: Int { layout.blockSize * kvDimension }

    /// The key row of `position` in layer `l` for a sequence with block table `table`.
    @inline(__always) func keyRow(_ l: Int, position: Int, table: UnsafePointer<Int32>) -> UnsafeMutablePointer<UInt16> {
        let b = layout.blockSize
        return halfs + Int(table[position / b]) * blockStride + keyOffset(l) + (position % b) * kvDimension
    }

    /// Bytes of the arena's mapping (resident only where written).
    var mappedBytes: Int { byteCount }
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
    var rope: UnsafeMutablePointer<Float> = .allocate(capacity: 1)  // [T × headDim] (cos, sin) per pair
    var xq: UnsafeMutableRawPointer = .allocate(byteCount: 64, alignment: 64)  // [T × max(d, ff)/32] blocks
    var xqHidden: UnsafeMutableRawPointer = .allocate(byteCount: 64, alignment: 64)  // [T × ff/32] blocks of hb
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
        for p in [x, xb, q, k, v, delta, hb, hb2, rope, logits, scores, floatScratch] { p.deallocate() }
        xq.deallocate()
        xqHidden.deallocate()
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
        for p in [x, xb, q, k, v, delta, hb, hb2, rope] { p.deallocate() }
        xq.deallocate()
        xqHidden.deallocate()
        x = .allocate(capacity: count * c.embeddingLength)
        xb = .allocate(capacity: count * c.embeddingLength)
        q = .allocate(capacity: count * c.embeddingLength)
        k = .allocate(capacity: count * c.kvDimension)
        v = .allocate(capacity: count * c.kvDimension)
        delta = .allocate(capacity: count * c.embeddingLength)
        hb = .allocate(capacity: count * c.feedForwardLength)
        hb2 = .allocate(capacity: count * c.feedForwardLength)
        rope = .allocate(capacity: count * c.headDimension)
        let blocks = (max(c.embeddingLength, c.feedForwardLength) + 31) / 32
        xq = .allocate(byteCount: count * blocks * ReferenceKernels.q8BlockBytes, alignment: 64)
        xqHidden = .allocate(byteCount: count * blocks * ReferenceKernels.q8BlockBytes, alignment: 64)
        tokens = count
    }

    private var logitCapacity = 0
}
