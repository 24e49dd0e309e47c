/// The launches of one forward pass over `tokens` positions with `outputs` logits rows. Every per-pass
/// value (tokens, positions, block tables, output rows) is read by the kernels from fixed buffers, so
/// the sequence depends on the shape alone and one recording serves every pass of that shape.
///
/// Per layer (with Q/K/V and gate/up fused, as for every model whose matrices share a type per group):
/// rmsnorm+quantize, matmul QKV + rope + store KV, attention (+quantize), matmul O (+= x),
/// rmsnorm+quantize, matmul gate|up + swiglu + quantize, matmul down (+= x): 7 launches. Plus the
/// embedding first and, when logits are asked for, the final norm and the head.
extension GPUBackend {
    /// Issues the pass's launches; returns how many.
    @discardableResult
    func issuePass(tokens t: Int, outputs s: Int) throws(InferenceError) -> Int {
        let c = config, d = c.embeddingLength, b = buffers, w = weights
        var launches = 0
        func launch(_ k: Kernel, _ shape: LaunchShape, _ args: [KernelArgument]) throws(InferenceError) {
            try device.launch(k, shape, args)
            launches += 1
        }
        let step = b.step
        try launch(.embed, Self.rows(t), [weight(w.embedding.offset), int(Int(w.embedding.type.rawValue)),
                                     int(w.embedding.type.byteCount(elements: d) ?? 0), int(d),
                                     .pointer(step, offset: b.tokensOffset), .buffer(b.x)])
        for l in 0..<c.layerCount {
            for (kernel, shape, args) in layerLaunches(l, tokens: t) { try launch(kernel, shape, args) }
        }
        guard s > 0 else { return launches }
        try launch(.rmsNormQuantize, Self.rows(s), [.buffer(b.x), .pointer(step, offset: b.outputRowsOffset), weight(w.outputNorm),
                                               int(d), .float(c.rmsEpsilon), .buffer(b.xb), .buffer(b.xq)])
        try launch(w.head.kernel, Self.matmulShape(rows: w.head.rows, vectors: s),
                   matmulArguments(w.head, input: b.xq, vectors: s, output: .buffer(b.logits), ld: c.vocabularySize, accumulate: false))
        return launches
    }

    typealias Launch = (Kernel, LaunchShape, [KernelArgument])

    /// One transformer block's launches: the attention half, then the feed-forward half.
    private func layerLaunches(_ l: Int, tokens t: Int) -> [Launch] {
        let w = weights.layers[l], d = config.embeddingLength, ff = config.feedForwardLength, b = buffers
        var list = [norm(w.attentionNorm, tokens: t)]
        list += attention(layer: l, tokens: t)
        list.append((w.output.kernel, Self.matmulShape(rows: d, vectors: t),
                     matmulArguments(w.output, input: b.xq, vectors: t, output: .buffer(b.x), ld: d, accumulate: true)))
        list.append(norm(w.ffnNorm, tokens: t))
        if w.gateUp.count == 1, let m = w.gateUp.first {
            list.append((.matmulSwiGLU, Self.swigluShape(feedForward: ff, vectors: t),
                         [weight(m.offset), int(Int(m.type.rawValue)), int(ff), int(m.cols), .buffer(b.xq), int(t), .buffer(b.hidden), .buffer(b.xqHidden)]))
        } else {
            list += stacked(w.gateUp, tokens: t, into: b.ffn, width: 2 * ff)
            list.append((.swigluQuantize, Self.rows(t), [.buffer(b.ffn), .pointer(b.ffn, offset: 4 * ff), int(2 * ff), int(ff), .buffer(b.hidden), .buffer(b.xqHidden)]))
        }
        list.append((w.down.kernel, Self.matmulShape(rows: d, vectors: t),
                     matmulArguments(w.down, input: b.xqHidden, vectors: t, output: .buffer(b.x), ld: d, accumulate: true)))
        return list
    }

    /// RMSNorm of every row of x (read through the identity row list) into xb and xq.
    private func norm(_ weightOffset: Int, tokens t: Int) -> Launch {
        let b = buffers
        return (.rmsNormQuantize, Self.rows(t), [.buffer(b.x), .buffer(b.identity), weight(weightOffset), int(config.embeddingLength),
                                                 .float(config.rmsEpsilon), .buffer(b.xb), .buffer(b.xq)])
    }

    /// The matrices of a stacked group (one launch when fused), their outputs side by side in rows of `width`.
    private func stacked(_ matrices: [GPUMatrix], tokens t: Int, into output: DeviceBuffer, width: Int) -> [Launch] {
        var column = 0, list: [Launch] = []
        for m in matrices {
            list.append((m.kernel, Self.matmulShape(rows: m.rows, vectors: t),
                         matmulArguments(m, input: buffers.xq, vectors: t, output: .pointer(output, offset: 4 * column), ld: width, accumulate: false)))
            column += m.rows
        }
        return list
    }

    /// Q, K and V with RoPE and the keys and values stored in their blocks (one launch when Q|K|V is one
    /// stacked matrix, else the matmuls then wk_rope_store_kv), then attention (quantizing its output
    /// itself when heads are whole activation blocks, otherwise with one more launch).
    private func attention(layer l: Int, tokens t: Int) -> [Launch] {
        let c = config, d = c.embeddingLength, kvd = c.kvDimension, hd = c.headDimension, b = buffers, bs = kvLayout.blockSize
        let width = d + 2 * kvd, fusedQuantize = hd % 32 == 0, qkv = weights.layers[l].qkv
        let paged: [KernelArgument] = [.pointer(b.step, offset: b.positionsOffset), .pointer(b.step, offset: b.tableStartOffset), .buffer(b.tables)]
        // The arena in halves: blocks of all layers' keys then values (KVArena's layout).
        let place: [KernelArgument] = [.buffer(arena), int(bs), int(2 * bs * kvd * c.layerCount), int(l * 2 * bs * kvd), int(bs * kvd)]
        let rope: [KernelArgument] = [int(hd), weight(weights.inverseFrequencies)] + paged + place
        var list: [Launch] = []
        if qkv.count == 1, let m = qkv.first {
            list.append((.matmulRopeStoreKV, Self.matmulShape(rows: m.rows, vectors: t),
                         [weight(m.offset), int(Int(m.type.rawValue)), int(d), int(kvd), int(m.cols), .buffer(b.xq), int(t), .buffer(b.qkv), int(width)] + rope))
        } else {
            list += stacked(qkv, tokens: t, into: b.qkv, width: width)
            list.append((.ropeStoreKV, LaunchShape(grid: (UInt32(t), 1, 1), block: (128, 1, 1)),
                         [.buffer(b.qkv), int(width), int(d), int(kvd)] + rope))
        }
        list.append((.attention, Self.attentionShape(config: c, tokens: t),
                     [.buffer(b.qkv), int(width), int(hd), int(c.headCount / c.kvHeadCount)] + paged + place
                        + [int(kvd), .float(1 / Float(hd).squareRoot()), .buffer(b.xb), int(d), .buffer(b.xq), int(fusedQuantize ? 1 : 0)]))
        if !fusedQuantize { list.append((.quantize, Self.rows(t), [.buffer(b.xb), int(d), int(d), .buffer(b.xq)])) }
        return list
    }

    // MARK: Shapes and arguments

    /// One block of (32, warps) threads per row.
    static func rows(_ count: Int) -> LaunchShape {
        LaunchShape(grid: (UInt32(count), 1, 1), block: (32, UInt32(Self.warps), 1))
    }

    /// Vectors one column of matmul blocks takes (two 8-vector tiles). Fewer columns would read each
    /// weight from L2 fewer times; more give small matrices enough blocks for 132 SMs (O and down have
    /// 18 row blocks): at 64 streams, 4 columns. Every column's weights come from DRAM once, as a
    /// layer's matrices (at most ~1.2 MB) stay in the 50 MB L2 while the columns run.
    static let vectorsPerColumn = 16

    /// 8 rows a warp, `warps` warps a block; a column of blocks per `vectorsPerColumn` vectors.
    static func matmulShape(rows: Int, vectors: Int) -> LaunchShape {
        let perBlock = 8 * Self.warps, columns = (vectors + vectorsPerColumn - 1) / vectorsPerColumn
        return LaunchShape(grid: (UInt32((rows + perBlock - 1) / perBlock), UInt32(columns), 1), block: (32, UInt32(Self.warps), 1))
    }

    func matmulArguments(_ m: GPUMatrix, input: DeviceBuffer, vectors: Int, output: KernelArgument, ld: Int, accumulate: Bool) -> [KernelArgument] {
        [weight(m.offset), int(m.rows), int(m.cols), .buffer(input), int(vectors), output, int(ld), int(accumulate ? 1 : 0)]
    }

    /// A block of 8 warps per 32-row chunk of the feed-forward width; a column of blocks per
    /// `vectorsPerColumn` vectors.
    static func swigluShape(feedForward ff: Int, vectors: Int) -> LaunchShape {
        LaunchShape(grid: (UInt32(ff / 32), UInt32((vectors + vectorsPerColumn - 1) / vectorsPerColumn), 1), block: (32, 8, 1))
    }

    /// Grid (heads, tokens); shared memory for q, the warps' probabilities, (m, l) and partial outputs.
    static func attentionShape(config: ModelConfig, tokens: Int) -> LaunchShape {
        let hd = config.headDimension, w = Self.warps
        return LaunchShape(grid: (UInt32(config.headCount), UInt32(tokens), 1), block: (32, UInt32(w), 1),
                           sharedBytes: UInt32(4 * (hd + 32 * w + 2 * w + w * hd)))
    }

    func weight(_ offset: Int) -> KernelArgument { .pointer(weights.buffer, offset: offset) }
    func int(_ v: Int) -> KernelArgument { .int32(Int32(truncatingIfNeeded: v)) }
}
