/// One entry of a GGUF tensor directory.
public struct GGUFTensorInfo: Equatable, Sendable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Its element type.
    public let type: GGMLType
    /// Its dimensions, contiguous one first (ggml `ne`): a matrix of N rows of K is `[K, N]`.
    public let shape: [Int]
    /// Byte offset of its data from the start of the data section.
    public let offset: Int
    /// Byte length of its data.
    public let byteCount: Int

    /// The number of elements (product of the shape).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Row length (`shape[0]`).
    public var rowLength: Int { shape[0] }
    /// Number of rows (product of the outer dimensions).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}

/// A tensor's directory entry together with its bytes inside the mapped file.
public struct GGUFTensor: @unchecked Sendable {
    /// The directory entry.
    public let info: GGUFTensorInfo
    /// The tensor's bytes (valid while the owning `GGUFFile` is alive).
    public let data: UnsafeRawBufferPointer

    public var name: String { info.name }
    public var type: GGMLType { info.type }
    public var shape: [Int] { info.shape }
}

extension GGUFCursor {
    /// Reads one tensor-info record and checks its type and shape; offsets are checked by the caller.
    mutating func readTensorInfo(index: Int) throws(InferenceError) -> GGUFTensorInfo {
        let name = try readString("name of tensor #\(index)")
        let what = "tensor '\(name)'"
        let nDims = try read(UInt32.self, "dimension count of \(what)")
        guard (1...4).contains(nDims) else { throw fail("\(what) has \(nDims) dimensions (must be 1...4)") }
        var shape: [Int] = []
        var elements = 1
        for d in 0..<Int(nDims) {
            let ne = try read(UInt64.self, "dimension \(d) of \(what)")
            guard ne >= 1, ne <= UInt64(Int32.max) else { throw fail("\(what) has dimension \(d) = \(ne) (must be 1...\(Int32.max))") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(ne))
            guard !overflow, product <= 1 << 40 else { throw fail("\(what) has an absurd element count (shape overflows)") }
            shape.append(Int(ne))
            elements = product
        }
        let rawType = try read(UInt32.self, "type of \(what)")
        guard let type = GGMLType(rawValue: rawType) else { throw fail("\(what) has unknown ggml type \(rawType)") }
        guard shape[0] % type.blockSize == 0, let bytes = type.byteCount(elements: elements) else {
            throw fail("\(what) has row length \(shape[0]), not a multiple of the \(type) block size \(type.blockSize)")
        }
        let offset = try read(UInt64.self, "offset of \(what)")
        guard offset <= UInt64(Int.max / 2) else { throw fail("\(what) has an absurd offset \(offset)") }
        return GGUFTensorInfo(name: name, type: type, shape: shape, offset: Int(offset), byteCount: bytes)
    }
}
