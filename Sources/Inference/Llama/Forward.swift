#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels

/// One position to run: which sequence's cache it extends, its token, its position.
struct PassToken {
    var cache: KVCache
    var token: Int
    var position: Int
}

/// The llama forward pass over a batch of positions from several sequences (llama2.c's `forward`,
/// batched): every matrix multiplies all T positions at once, so each weight byte is read once per pass.
/// Runs inside one ThreadPool.run; phases are separated by barriers; each thread takes a slice of the
/// positions (elementwise work) or of the 16-row groups (matrices).
final class LlamaForward: @unchecked Sendable {
    let model: LlamaModel
    let prepared: PreparedModel
    let pool: ThreadPool
    let scratch: Scratch
    let native: Bool
    private let inverseFrequencies: [Float]  // [headDim/2] theta^(-2i/headDim)

    @inline(__always) func inverseFrequency(_ i: Int) -> Float { inverseFrequencies[i] }

    init(model: LlamaModel, prepared: PreparedModel, pool: ThreadPool, native: Bool) {
        let c = model.config
        self.model = model
        self.prepared = prepared
        self.pool = pool
        self.native = native
        self.scratch = Scratch(config: c, threads: pool.width)
        inverseFrequencies = (0..<c.headDimension / 2).map { i in
            Float(pow(Double(c.ropeTheta), -2 * Double(i) / Double(c.headDimension)))
        }
    }

    /// Runs `tokens` (whose cache slots must exist: position < capacity) and writes the logits of the
    /// positions listed in `outputs` to `scratch.logits`, one vocabulary-sized row each, in that order.
    func run(_ tokens: [PassToken], outputs: [Int]) {
        let c = model.config, T = tokens.count
        scratch.reserve(tokens: T, outputs: outputs.count)
        pool.run { tid in
            let width = pool.width
            let rows = ThreadPool.share(T, tid: tid, width: width)
            for t in rows { embed(token: tokens[t].token, into: scratch.x + t * c.embeddingLength) }
            for l in 0..<c.layerCount {
                layer(l, tokens: tokens, tid: tid, rows: rows)
            }
            pool.barrier()
            let outRows = ThreadPool.share(outputs.count, tid: tid, width: width)
            for (i, t) in zip(outRows, outRows.map { outputs[$0] }) {
                normalize(scratch.x + t * c.embeddingLength, model.outputNorm, into: scratch.xb + i * c.embeddingLength)
                quantize(scratch.xb + i * c.embeddingLength, c.embeddingLength, at: i)
            }
            pool.barrier()
            multiply(prepared.head, tid: tid, nv: outputs.count, y: scratch.logits, ldy: c.vocabularySize)
        }
    }

    /// One transformer block over all positions.
    private func layer(_ l: Int, tokens: [PassToken], tid: Int, rows: Range<Int>) {
        let c = model.config, w = model.layers[l], m = prepared.layers[l], T = tokens.count
        let d = c.embeddingLength, kvd = c.kvDimension, ff = c.feedForwardLength, s = scratch
        // Attention: h = rmsnorm(x) ⊙ attn_norm; q, k, v = Wq·h, Wk·h, Wv·h.
        for t in rows {
            normalize(s.x + t * d, w.attentionNorm, into: s.xb + t * d)
            quantize(s.xb + t * d, d, at: t)
        }
        pool.barrier()
        multiply([(m.query, s.q, d), (m.key, s.k, kvd), (m.value, s.v, kvd)], tid: tid, nv: T)
        pool.barrier()
        // RoPE on q and k, then append k and v to each sequence's cache.
        for t in rows {
            let p = tokens[t].position, cache = tokens[t].cache
            rotate(s.q + t * d, heads: c.headCount, position: p)
            rotate(s.k + t * kvd, heads: c.kvHeadCount, position: p)
            wk_f32_to_f16(s.k + t * kvd, cache.keys(l) + p * kvd, Int32(kvd))
            wk_f32_to_f16(s.v + t * kvd, cache.values(l) + p * kvd, Int32(kvd))
        }
        pool.barrier()
        attend(layer: l, tokens: tokens, tid: tid)
        pool.barrier()
        for t in rows { quantize(s.xb + t * d, d, at: t) }
        pool.barrier()
        multiply([(m.output, s.delta, d)], tid: tid, nv: T)
        pool.barrier()
        // FFN: x += Wo·att; h = rmsnorm(x) ⊙ ffn_norm; x += Wdown·(silu(Wgate·h) ⊙ Wup·h).
        for t in rows {
            add(s.delta + t * d, into: s.x + t * d, count: d)
            normalize(s.x + t * d, w.ffnNorm, into: s.xb + t * d)
            quantize(s.xb + t * d, d, at: t)
        }
        pool.barrier()
        multiply([(m.gate, s.hb, ff), (m.up, s.hb2, ff)], tid: tid, nv: T)
        pool.barrier()
        for t in rows {
            swiglu(s.hb + t * ff, s.hb2 + t * ff, count: ff)
            quantize(s.hb + t * ff, ff, at: t)
        }
        pool.barrier()
        multiply([(m.down, s.delta, d)], tid: tid, nv: T)
        pool.barrier()
        for t in rows { add(s.delta + t * d, into: s.x + t * d, count: d) }
    }

    /// Each query head of each position attends over its sequence's positions 0...p (causal).
    private func attend(layer l: Int, tokens: [PassToken], tid: Int) {
        let c = model.config, hd = c.headDimension, group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let scores = scratch.scores + tid * c.contextLength
        for item in ThreadPool.share(tokens.count * c.headCount, tid: tid, width: pool.width) {
            let t = item / c.headCount, h = item % c.headCount
            let cache = tokens[t].cache, kvOffset = (h / group) * hd
            wk_attention_f16(scratch.q + t * c.embeddingLength + h * hd, cache.keys(l) + kvOffset, cache.values(l) + kvOffset,
                             Int32(tokens[t].position + 1), Int32(hd), c.kvDimension, scale, scores,
                             scratch.xb + t * c.embeddingLength + h * hd)
        }
    }

    /// Multiplies the same quantized input by several matrices, splitting all their row groups across threads.
    private func multiply(_ jobs: [(PreparedMatrix, UnsafeMutablePointer<Float>, Int)], tid: Int, nv: Int) {
        let total = jobs.reduce(0) { $0 + $1.0.groupCount }
        let mine = ThreadPool.share(total, tid: tid, width: pool.width)
        var start = 0
        for (matrix, y, ldy) in jobs {
            let range = start..<(start + matrix.groupCount)
            let lo = max(range.lowerBound, mine.lowerBound), hi = min(range.upperBound, mine.upperBound)
            if lo < hi {
                matrix.multiply(groups: (lo - start)..<(hi - start), xq: scratch.xq, xf: xfInput(matrix), nv: nv,
                                y: y, ldy: ldy, scratch: floatScratch(tid))
            }
            start += matrix.groupCount
        }
    }

    private func multiply(_ matrix: PreparedMatrix, tid: Int, nv: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        multiply([(matrix, y, ldy)], tid: tid, nv: nv)
    }

    /// The float input a matrix of this width reads (the F32/F16 fallback): hb for the FFN-width input.
    private func xfInput(_ matrix: PreparedMatrix) -> UnsafePointer<Float> {
        UnsafePointer(matrix.cols == model.config.embeddingLength ? scratch.xb : scratch.hb)
    }

    private func floatScratch(_ tid: Int) -> UnsafeMutablePointer<Float> {
        scratch.floatScratch + tid * max(model.config.embeddingLength, model.config.feedForwardLength)
    }

    /// Quantizes position t's input of width n into its slot of `xq`.
    private func quantize(_ x: UnsafeMutablePointer<Float>, _ n: Int, at t: Int) {
        let out = scratch.xq + t * (n / 32) * ReferenceKernels.q8BlockBytes
        if native {
            wk_quantize_q8(x, Int32(n), out.assumingMemoryBound(to: wk_block_q8.self))
        } else {
            ReferenceKernels.quantizeQ8(x, k: n, into: out)
        }
    }
}
