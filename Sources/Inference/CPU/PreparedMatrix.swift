#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels

/// A weight matrix made ready for the CPU backend: Q4_1/Q8_0 repacked into 16-row groups for the C
/// int8 kernels (or left in GGUF layout for the Swift reference kernels); F32/F16 use float dots.
final class PreparedMatrix: @unchecked Sendable {
    let matrix: WeightMatrix
    /// The repacked copy, when the C kernels run this matrix.
    private let packed: UnsafeMutableRawPointer?

    var rows: Int { matrix.rows }
    var cols: Int { matrix.cols }
    /// Units of work: groups of 16 output rows.
    var groupCount: Int { (matrix.rows + 15) / 16 }
    var isQuantized: Bool { matrix.usesQuantizedActivations }

    init(_ matrix: WeightMatrix, native: Bool) {
        self.matrix = matrix
        let src = matrix.data.baseAddress!
        let (r, k) = (Int32(matrix.rows), Int32(matrix.cols))
        switch (native, matrix.type) {
        case (true, .q4_1):
            let p = UnsafeMutableRawPointer.allocate(byteCount: wk_repacked_size_q4_1(r, k), alignment: 64)
            wk_repack_q4_1(src, r, k, p)
            packed = p
        case (true, .q8_0):
            let p = UnsafeMutableRawPointer.allocate(byteCount: wk_repacked_size_q8_0(r, k), alignment: 64)
            wk_repack_q8_0(src, r, k, p)
            packed = p
        default:
            packed = nil
        }
        if packed != nil { Self.dropFromMemory(matrix.data) }
    }

    deinit { packed?.deallocate() }

    /// Releases the file pages of a repacked tensor so they stop counting as resident memory
    /// (they fault back in from the file if a row is read again, e.g. the tied embedding).
    private static func dropFromMemory(_ data: UnsafeRawBufferPointer) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: data.baseAddress) + page - 1) / page * page
        let end = (Int(bitPattern: data.baseAddress) + data.count) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    /// y[v*ldy + r] = row r · x_v for the rows of `groups` and nv input vectors: quantized inputs `xq`
    /// (cols/32 blocks per vector) for Q4_1/Q8_0, float inputs `xf` (stride cols) for F32/F16.
    func multiply(
        groups: Range<Int>, xq: UnsafeRawPointer, xf: UnsafePointer<Float>, nv: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        guard !groups.isEmpty else { return }
        if let packed {
            let x = xq.assumingMemoryBound(to: wk_block_q8.self)
            let (r, k, g0, g1) = (Int32(rows), Int32(cols), Int32(groups.lowerBound), Int32(groups.upperBound))
            if matrix.type == .q4_1 {
                wk_matmul_q4_1(packed, r, k, g0, g1, x, Int32(nv), y, Int32(ldy))
            } else {
                wk_matmul_q8_0(packed, r, k, g0, g1, x, Int32(nv), y, Int32(ldy))
            }
            return
        }
        let rowRange = (groups.lowerBound * 16)..<min(rows, groups.upperBound * 16)
        let base = matrix.data.baseAddress!, rowBytes = matrix.data.count / rows
        let blockBytes = (cols / 32) * ReferenceKernels.q8BlockBytes
        for row in rowRange {
            for v in 0..<nv {
                y[v * ldy + row] = isQuantized
                    ? ReferenceKernels.dotQ8(matrix.type, row: base + row * rowBytes, k: cols, x: xq + v * blockBytes)
                    : ReferenceKernels.dotFloat(matrix.type, matrix.data, row: row, k: cols, x: xf + v * cols, scratch: scratch)
            }
        }
    }
}

/// The prepared weights of a whole model.
final class PreparedModel: @unchecked Sendable {
    struct Layer {
        let query, key, value, output, gate, up, down: PreparedMatrix
    }
    let layers: [Layer]
    let head: PreparedMatrix

    init(_ model: LlamaModel, native: Bool) {
        layers = model.layers.map { l in
            Layer(query: PreparedMatrix(l.query, native: native), key: PreparedMatrix(l.key, native: native),
                  value: PreparedMatrix(l.value, native: native), output: PreparedMatrix(l.output, native: native),
                  gate: PreparedMatrix(l.gate, native: native), up: PreparedMatrix(l.up, native: native),
                  down: PreparedMatrix(l.down, native: native))
        }
        head = PreparedMatrix(model.outputHead, native: native)
    }
}
