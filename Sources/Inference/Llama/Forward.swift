#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels

/// One position to run: its sequence's block table (alive for the pass), its token, its position.
struct PassToken {
    var table: UnsafePointer<Int32>
    var token: Int
    var position: Int
}

/// The llama forward pass over a batch of positions from several sequences (llama2.c's `forward`,
/// batched): every matrix multiplies all T positions at once, so each weight byte is read once per pass.
/// Runs inside one ThreadPool.run. Each thread takes a slice of the positions (norms), of the 16-row
/// groups of the matrices (and finishes its own rows: RoPE, cache writes, residual adds, SwiGLU), or of
/// the (position, head) pairs (attention); seven barriers per layer separate the phases.
final class LlamaForward: @unchecked Sendable {
    let model: LlamaModel
    let prepared: PreparedModel
    let pool: ThreadPool
    let scratch: Scratch
    let arena: KVArena
    let native: Bool
    private let inverseFrequencies: [Float]  // [headDim/2] theta^(-2i/headDim)

    @inline(__always) func inverseFrequency(_ i: Int) -> Float { inverseFrequencies[i] }

    init(model: LlamaModel, prepared: PreparedModel, pool: ThreadPool, arena: KVArena, native: Bool) {
        let c = model.config
        self.model = model
        self.arena = arena
        self.prepared = prepared
        self.pool = pool
        self.native = native
        self.scratch = Scratch(config: c, threads: pool.width)
        inverseFrequencies = c.ropeInverseFrequencies  // shared with the GPU backend
    }

    /// Runs `tokens` (whose block tables must cover their positions) and writes the logits of the
    /// positions listed in `outputs` to `scratch.logits`, one vocabulary-sized row each, in that order.
    func run(_ tokens: [PassToken], outputs: [Int]) {
        let c = model.config, T = tokens.count, d = c.embeddingLength
        scratch.reserve(tokens: T, outputs: outputs.count)
        pool.run { tid in
            let rows = ThreadPool.share(T, tid: tid, width: pool.width)
            for t in rows {
                embed(token: tokens[t].token, into: scratch.x + t * d)
                ropeTable(position: tokens[t].position, into: scratch.rope + t * c.headDimension)
            }
            for l in 0..<c.layerCount { layer(l, tokens: tokens, tid: tid, rows: rows) }
            // logits = head · (rmsnorm(x) ⊙ output_norm), only at the positions asked for.
            for i in ThreadPool.share(outputs.count, tid: tid, width: pool.width) {
                normalize(scratch.x + outputs[i] * d, model.outputNorm, into: scratch.xb + i * d)
                quantize(scratch.xb + i * d, d, at: i)
            }
            pool.barrier()
            let head = prepared.head
            head.multiply(groups: share(head.groupCount, tid), xq: scratch.xq, xf: scratch.xb, nv: outputs.count,
                          y: scratch.logits, ldy: c.vocabularySize, scratch: floatScratch(tid))
        }
    }

    /// One transformer block over all positions; every thread calls this with its share.
    private func layer(_ l: Int, tokens: [PassToken], tid: Int, rows: Range<Int>) {
        let c = model.config, w = model.layers[l], m = prepared.layers[l], T = tokens.count
        let d = c.embeddingLength, kvd = c.kvDimension, s = scratch
        // h = rmsnorm(x) ⊙ attn_norm
        for t in rows { normalize(s.x + t * d, w.attentionNorm, into: s.xb + t * d); quantize(s.xb + t * d, d, at: t) }
        pool.barrier()
        // q, k, v = Wq·h, Wk·h, Wv·h; RoPE on q and k; k and v written to each position's block slot.
        let qkv = [m.query, m.key, m.value]
        for (j, groups) in split(qkv, tid) {
            let outs = [s.q, s.k, s.v], widths = [d, kvd, kvd]
            qkv[j].multiply(groups: groups, xq: s.xq, xf: s.xb, nv: T, y: outs[j], ldy: widths[j], scratch: floatScratch(tid))
            let r = rowRange(groups, qkv[j].rows)
            for t in 0..<T {
                let row = outs[j] + t * widths[j]
                if j < 2 { rotate(row, rows: r, table: s.rope + t * c.headDimension) }
                if j > 0 {
                    let slot = arena.keyRow(l, position: tokens[t].position, table: tokens[t].table)
                    wk_f32_to_f16(row + r.lowerBound, slot + (j == 1 ? 0 : arena.valueOffset) + r.lowerBound, Int32(r.count))
                }
            }
        }
        pool.barrier()
        attend(layer: l, tokens: tokens, tid: tid)  // → xb (quantized into xq)
        pool.barrier()
        // x += Wo·att
        multiplyAdd(m.output, input: s.xq, tid: tid, nv: T)
        pool.barrier()
        // h = rmsnorm(x) ⊙ ffn_norm
        for t in rows { normalize(s.x + t * d, w.ffnNorm, into: s.xb + t * d); quantize(s.xb + t * d, d, at: t) }
        pool.barrier()
        // x += Wdown·(silu(Wgate·h) ⊙ Wup·h)
        feedForward(m, tid: tid, nv: T)
        pool.barrier()
        multiplyAdd(m.down, input: s.xqHidden, tid: tid, nv: T)
        pool.barrier()
    }

    /// Each query head of each position attends over its sequence's positions 0...p (causal, read through
    /// its block table), and the
    /// head's slice of the output is quantized right away (its blocks belong to this head alone).
    private func attend(layer l: Int, tokens: [PassToken], tid: Int) {
        let c = model.config, hd = c.headDimension, group = c.headCount / c.kvHeadCount, d = c.embeddingLength
        let scale = 1 / Float(hd).squareRoot()
        let scores = scratch.scores + tid * c.contextLength
        let headBlocks = hd % 32 == 0
        for item in ThreadPool.share(tokens.count * c.headCount, tid: tid, width: pool.width) {
            let t = item / c.headCount, h = item % c.headCount
            let out = scratch.xb + t * d + h * hd
            var view = wk_kv_view(base: arena.halfs + arena.keyOffset(l) + (h / group) * hd, table: tokens[t].table,
                                  block_stride: arena.blockStride, row_stride: c.kvDimension,
                                  value_offset: arena.valueOffset, block: Int32(arena.layout.blockSize))
            wk_attention_f16(scratch.q + t * d + h * hd, &view, Int32(tokens[t].position + 1), Int32(hd), scale, scores, out)
            if headBlocks { quantizeBlocks(out, count: hd, block: (t * d + h * hd) / 32, into: scratch.xq) }
        }
        if !headBlocks {  // heads do not align with 32-wide blocks: quantize whole positions afterwards
            pool.barrier()
            for t in ThreadPool.share(tokens.count, tid: tid, width: pool.width) { quantize(scratch.xb + t * d, d, at: t) }
        }
    }

    /// hb = silu(Wgate·h) ⊙ Wup·h, quantized; each thread owns the same 32-row slices of gate and up.
    private func feedForward(_ m: PreparedModel.Layer, tid: Int, nv: Int) {
        let ff = model.config.feedForwardLength, s = scratch
        let unit = ff % 32 == 0 ? 2 : m.gate.groupCount  // groups per slice: whole quantization blocks
        let slices = (m.gate.groupCount + unit - 1) / unit
        let mine = share(slices, tid)
        let groups = (mine.lowerBound * unit)..<min(m.gate.groupCount, mine.upperBound * unit)
        m.gate.multiply(groups: groups, xq: s.xq, xf: s.xb, nv: nv, y: s.hb, ldy: ff, scratch: floatScratch(tid))
        m.up.multiply(groups: groups, xq: s.xq, xf: s.xb, nv: nv, y: s.hb2, ldy: ff, scratch: floatScratch(tid))
        let r = rowRange(groups, ff)
        for t in 0..<nv where !r.isEmpty {
            swiglu(s.hb + t * ff + r.lowerBound, s.hb2 + t * ff + r.lowerBound, count: r.count)
            // Into the second block buffer: other threads may still be reading xq for their gate/up rows.
            if ff % 32 == 0 {
                quantizeBlocks(s.hb + t * ff + r.lowerBound, count: r.count, block: (t * ff + r.lowerBound) / 32, into: s.xqHidden)
            }
        }
        if ff % 32 != 0 {
            pool.barrier()
            for t in share(nv, tid) { quantizeBlocks(s.hb + t * ff, count: ff, block: t * ff / 32, into: s.xqHidden) }
        }
    }
}
