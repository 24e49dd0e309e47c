/// The launches of one forward pass over `tokens` positions with `outputs` logits rows. Every per-pass
/// value (tokens, positions, block tables, output rows) is read by the kernels from fixed buffers, so
/// the sequence depends on the shape alone and one recording serves every pass of that shape.
///
/// Per layer (with Q/K/V and gate/up fused, as for every model whose matrices share a type per group):
/// rmsnorm+quantize, matmul QKV, rope+store KV, attention (+quantize), matmul O (+= x),
/// rmsnorm+quantize, matmul gate|up, swiglu+quantize, matmul down (+= x): 9 launches. Plus the
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

    /// One transformer block's launches.
    private func layerLaunches(_ l: Int, tokens t: Int) -> [(Kernel, LaunchShape, [KernelArgument])] {
        let c = config, d = c.embeddingLength, kvd = c.kvDimension, ff = c.feedForwardLength, hd = c.headDimension
        let b = buffers, w = weights.layers[l], qkvWidth = d + 2 * kvd
        var list: [(Kernel, LaunchShape, [KernelArgument])] = []
        // Norms read x row by row through the identity row list.
        let normArguments: (Int) -> [KernelArgument] = { norm in
            [.buffer(b.x), .buffer(b.identity), self.weight(norm), self.int(d), .float(c.rmsEpsilon), .buffer(b.xb), .buffer(b.xq)]
        }
        list.append((.rmsNormQuantize, Self.rows(t), normArguments(w.attentionNorm)))
        var column = 0
        for m in w.qkv {
            list.append((m.kernel, Self.matmulShape(rows: m.rows, vectors: t),
                         matmulArguments(m, input: b.xq, vectors: t, output: .pointer(b.qkv, offset: 4 * column), ld: qkvWidth, accumulate: false)))
            column += m.rows
        }
        let layerOffset = l * 2 * kvLayout.blockSize * kvd, valueOffset = kvLayout.blockSize * kvd
        let blockStride = 2 * kvLayout.blockSize * kvd * c.layerCount
        let paged: [KernelArgument] = [.pointer(b.step, offset: b.positionsOffset), .pointer(b.step, offset: b.tableStartOffset), .buffer(b.tables)]
        list.append((.ropeStoreKV, LaunchShape(grid: (UInt32(t), 1, 1), block: (128, 1, 1)),
                     [.buffer(b.qkv), int(qkvWidth), int(d), int(kvd), int(hd), weight(weights.inverseFrequencies)] + paged
                     + [.buffer(arena), int(kvLayout.blockSize), int(blockStride), int(layerOffset), int(valueOffset)]))
        let fusedQuantize = hd % 32 == 0
        list.append((.attention, Self.attentionShape(config: c, tokens: t),
                     [.buffer(b.qkv), int(qkvWidth), int(hd), int(c.headCount / c.kvHeadCount)] + paged
                     + [.buffer(arena), int(kvLayout.blockSize), int(blockStride), int(layerOffset), int(valueOffset), int(kvd),
                        .float(1 / Float(hd).squareRoot()), .buffer(b.xb), int(d), .buffer(b.xq), int(fusedQuantize ? 1 : 0)]))
        if !fusedQuantize {
            list.append((.quantize, Self.rows(t), [.buffer(b.xb), int(d), int(d), .buffer(b.xq)]))
        }
        list.append((w.output.kernel, Self.matmulShape(rows: d, vectors: t),
                     matmulArguments(w.output, input: b.xq, vectors: t, output: .buffer(b.x), ld: d, accumulate: true)))
        list.append((.rmsNormQuantize, Self.rows(t), normArguments(w.ffnNorm)))
        column = 0
        for m in w.gateUp {
            list.append((m.kernel, Self.matmulShape(rows: m.rows, vectors: t),
                         matmulArguments(m, input: b.xq, vectors: t, output: .pointer(b.ffn, offset: 4 * column), ld: 2 * ff, accumulate: false)))
            column += m.rows
        }
        list.append((.swigluQuantize, Self.rows(t), [.buffer(b.ffn), .pointer(b.ffn, offset: 4 * ff), int(2 * ff), int(ff), .buffer(b.hidden), .buffer(b.xq)]))
        list.append((w.down.kernel, Self.matmulShape(rows: d, vectors: t),
                     matmulArguments(w.down, input: b.xq, vectors: t, output: .buffer(b.x), ld: d, accumulate: true)))
        return list
    }

    // MARK: Shapes and arguments

    /// One block of (32, warps) threads per row.
    static func rows(_ count: Int) -> LaunchShape {
        LaunchShape(grid: (UInt32(count), 1, 1), block: (32, UInt32(Self.warps), 1))
    }

    /// 8 rows a warp; a column of blocks per 64 vectors (8 tiles of 8 sharing the rows' weights in L1).
    static func matmulShape(rows: Int, vectors: Int) -> LaunchShape {
        let perBlock = 8 * Self.warps
        return LaunchShape(grid: (UInt32((rows + perBlock - 1) / perBlock), UInt32((vectors + 63) / 64), 1), block: (32, UInt32(Self.warps), 1))
    }

    func matmulArguments(_ m: GPUMatrix, input: DeviceBuffer, vectors: Int, output: KernelArgument, ld: Int, accumulate: Bool) -> [KernelArgument] {
        [weight(m.offset), int(m.rows), int(m.cols), .buffer(input), int(vectors), output, int(ld), int(accumulate ? 1 : 0)]
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
