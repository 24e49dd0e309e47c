import CInferenceKernels

/// How a phase's work is split across the pool's threads, and the matrix steps that finish their own rows.
extension LlamaForward {
    /// This thread's contiguous share of `count` units.
    func share(_ count: Int, _ tid: Int) -> Range<Int> {
        ThreadPool.share(count, tid: tid, width: pool.width)
    }

    /// This thread's share of the row groups of several matrices taken together: (matrix index, its groups).
    func split(_ matrices: [PreparedMatrix], _ tid: Int) -> [(Int, Range<Int>)] {
        let mine = share(matrices.reduce(0) { $0 + $1.groupCount }, tid)
        var result: [(Int, Range<Int>)] = [], start = 0
        for (j, m) in matrices.enumerated() {
            let lo = max(start, mine.lowerBound), hi = min(start + m.groupCount, mine.upperBound)
            if lo < hi { result.append((j, (lo - start)..<(hi - start))) }
            start += m.groupCount
        }
        return result
    }

    /// The output rows of a range of 16-row groups.
    func rowRange(_ groups: Range<Int>, _ rows: Int) -> Range<Int> {
        min(rows, groups.lowerBound * 16)..<min(rows, groups.upperBound * 16)
    }

    /// x += W·input for this thread's rows (W's output width is d; `input` holds the quantized input).
    func multiplyAdd(_ m: PreparedMatrix, input: UnsafeMutableRawPointer, tid: Int, nv: Int) {
        let d = model.config.embeddingLength, s = scratch
        let groups = share(m.groupCount, tid), r = rowRange(groups, m.rows)
        let xf = m.cols == d ? s.xb : s.hb
        m.multiply(groups: groups, xq: input, xf: xf, nv: nv, y: s.delta, ldy: d, scratch: floatScratch(tid))
        for t in 0..<nv where !r.isEmpty {
            add(s.delta + t * d + r.lowerBound, into: s.x + t * d + r.lowerBound, count: r.count)
        }
    }

    func floatScratch(_ tid: Int) -> UnsafeMutablePointer<Float> {
        scratch.floatScratch + tid * max(model.config.embeddingLength, model.config.feedForwardLength)
    }

    /// Quantizes position t's d-wide input into its slot of `xq`.
    func quantize(_ x: UnsafeMutablePointer<Float>, _ n: Int, at t: Int) {
        quantizeBlocks(x, count: n, block: t * (n / 32), into: scratch.xq)
    }

    /// Quantizes `count` floats (a multiple of 32) into blocks starting at block index `block` of `buffer`.
    func quantizeBlocks(_ x: UnsafeMutablePointer<Float>, count: Int, block: Int, into buffer: UnsafeMutableRawPointer) {
        let out = buffer + block * ReferenceKernels.q8BlockBytes
        if native {
            wk_quantize_q8(x, Int32(count), out.assumingMemoryBound(to: wk_block_q8.self))
        } else {
            ReferenceKernels.quantizeQ8(x, k: count, into: out)
        }
    }
}
