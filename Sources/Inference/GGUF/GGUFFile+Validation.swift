extension GGUFFile {
    struct Header {
        var version: UInt32
        var tensorCount: Int
        var kvCount: Int
    }

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32

    static func readHeader(_ cursor: inout GGUFCursor) throws(InferenceError) -> Header {
        let magic = try cursor.read(UInt32.self, "the magic")
        guard magic == Self.magic else {
            throw cursor.fail("bad magic 0x\(String(magic, radix: 16)) (not a GGUF file; expected \"GGUF\")")
        }
        let version = try cursor.read(UInt32.self, "the version")
        if version.byteSwapped == 2 || version.byteSwapped == 3 {
            throw cursor.fail("big-endian GGUF files are not supported")
        }
        guard version == 2 || version == 3 else { throw cursor.fail("unsupported GGUF version \(version) (2 and 3 are read)") }
        let tensorCount = try cursor.read(UInt64.self, "the tensor count")
        let kvCount = try cursor.read(UInt64.self, "the metadata count")
        // A tensor-info record takes at least 8+4+8+4+8 bytes and a key/value pair at least 8+4+1.
        guard tensorCount <= UInt64(cursor.remaining / 32) else {
            throw cursor.fail("truncated or corrupt: tensor count \(tensorCount) cannot fit in the \(cursor.bytes.count)-byte file")
        }
        guard kvCount <= UInt64(cursor.remaining / 13) else {
            throw cursor.fail("truncated or corrupt: metadata count \(kvCount) cannot fit in the \(cursor.bytes.count)-byte file")
        }
        return Header(version: version, tensorCount: Int(tensorCount), kvCount: Int(kvCount))
    }

    static func readMetadata(_ cursor: inout GGUFCursor, count: Int) throws(InferenceError) -> GGUFMetadata {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        for i in 0..<count {
            let key = try cursor.readString("metadata key #\(i)")
            guard !key.isEmpty else { throw cursor.fail("metadata key #\(i) is empty") }
            guard values[key] == nil else { throw cursor.fail("metadata key '\(key)' appears twice") }
            let type = try cursor.readValueType("metadata '\(key)'")
            values[key] = try cursor.readValue(type, "metadata '\(key)'")
            keys.append(key)
        }
        return GGUFMetadata(keys: keys, values: values, path: cursor.path)
    }

    static func alignment(_ metadata: GGUFMetadata, _ cursor: GGUFCursor) throws(InferenceError) -> Int {
        guard let value = metadata["general.alignment"] else { return 32 }
        guard case .uint32(let a) = value else {
            throw cursor.fail("general.alignment holds \(value.typeDescription), expected uint32")
        }
        guard a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
            throw cursor.fail("general.alignment is \(a) (must be a power of two up to 1 MiB)")
        }
        return Int(a)
    }

    /// Checks names are unique and every tensor is aligned, inside the file and not overlapping another.
    static func validate(
        _ tensors: [GGUFTensorInfo], dataOffset: Int, alignment: Int, cursor: GGUFCursor
    ) throws(InferenceError) -> [String: Int] {
        let fileSize = cursor.bytes.count
        guard dataOffset <= fileSize || tensors.isEmpty else {
            throw cursor.fail("the data section would start at byte \(dataOffset), past the end of the \(fileSize)-byte file")
        }
        let dataSize = max(0, fileSize - dataOffset)
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() {
            guard index[t.name] == nil else { throw cursor.fail("tensor name '\(t.name)' appears twice") }
            index[t.name] = i
            guard t.offset % alignment == 0 else {
                throw cursor.fail("tensor '\(t.name)' offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            guard t.offset <= dataSize, t.byteCount <= dataSize - t.offset else {
                throw cursor.fail("tensor '\(t.name)' (\(t.byteCount) bytes at data offset \(t.offset)) runs past the end of the file (data section is \(dataSize) bytes; truncated?)")
            }
        }
        let byOffset = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset && b.byteCount > 0 {
            throw cursor.fail("tensors '\(a.name)' and '\(b.name)' overlap (data offsets \(a.offset) and \(b.offset))")
        }
        return index
    }
}
