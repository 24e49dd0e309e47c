// GGUF byte layout (ggml/docs/gguf.md; all integers little-endian, no padding between fields):
//
//   header
//     u32  magic            0x46554747 ("GGUF" as bytes 47 47 55 46)
//     u32  version          2 or 3 (v1 used u32 counts and is not read)
//     u64  tensor_count
//     u64  kv_count
//   kv_count × metadata pair
//     gguf_string key       u64 length + UTF-8 bytes (no NUL)
//     u32  value_type       0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (1 byte),
//                           8 string, 9 array, 10 u64, 11 i64, 12 f64
//     value                 fixed-size scalar | gguf_string | array = u32 elem_type + u64 n + n elements
//   tensor_count × tensor info
//     gguf_string name
//     u32  n_dims           1...4
//     u64  ne[n_dims]       ne[0] is the contiguous (row) length
//     u32  ggml_type        see GGMLType
//     u64  offset           relative to the data section, a multiple of the alignment
//   padding to a multiple of `general.alignment` (u32 key, default 32)
//   data section            tensor bytes, each tensor ne-product / block_size × block_bytes long
//
// Every read below is bounds-checked against the buffer; every count is checked against the bytes
// that remain before anything is allocated, so hostile counts cannot trigger huge allocations.

/// A bounds-checked little-endian reader over a byte buffer.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    let path: String?

    init(_ bytes: UnsafeRawBufferPointer, path: String?) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    func fail(_ message: String) -> InferenceError {
        InferenceError(.malformedFile, message, path: path)
    }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(InferenceError) {
        guard n >= 0, n <= remaining else {
            throw fail("truncated at byte \(offset) while reading \(what()) (needs \(n) bytes, \(remaining) left)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(InferenceError) -> T {
        try need(MemoryLayout<T>.size, what())
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func readString(_ what: @autoclosure () -> String) throws(InferenceError) -> String {
        let length = try read(UInt64.self, "length of \(what())")
        guard length <= UInt64(remaining) else {
            throw fail("truncated or corrupt: \(what()) claims \(length) bytes but only \(remaining) remain (at byte \(offset - 8))")
        }
        let n = Int(length)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), as: UTF8.self)
        offset += n
        return s
    }

    mutating func readValue(_ type: GGUFValueType, _ what: String, depth: Int = 0) throws(InferenceError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what))
        case .int8: return .int8(try read(Int8.self, what))
        case .uint16: return .uint16(try read(UInt16.self, what))
        case .int16: return .int16(try read(Int16.self, what))
        case .uint32: return .uint32(try read(UInt32.self, what))
        case .int32: return .int32(try read(Int32.self, what))
        case .uint64: return .uint64(try read(UInt64.self, what))
        case .int64: return .int64(try read(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what)))
        case .bool:
            let b = try read(UInt8.self, what)
            guard b <= 1 else { throw fail("\(what) is a bool with byte value \(b) (must be 0 or 1)") }
            return .bool(b == 1)
        case .string: return .string(try readString(what))
        case .array: return try readArray(what, depth: depth)
        }
    }

    mutating func readValueType(_ what: String) throws(InferenceError) -> GGUFValueType {
        let raw = try read(UInt32.self, "type of \(what)")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw fail("\(what) has unknown value type \(raw) (at byte \(offset - 4))")
        }
        return type
    }

    mutating func readArray(_ what: String, depth: Int) throws(InferenceError) -> GGUFValue {
        guard depth < 4 else { throw fail("\(what) nests arrays more than 4 deep") }
        let elementType = try readValueType("element of \(what)")
        let count = try read(UInt64.self, "length of \(what)")
        // Smallest encoding of one element: a string is at least its 8-byte length, an array 12 bytes.
        let minimum = UInt64(elementType.fixedSize ?? (elementType == .string ? 8 : 12))
        guard count <= UInt64(remaining) / minimum else {
            throw fail("truncated or corrupt: \(what) claims \(count) elements of \(elementType) but only \(remaining) bytes remain")
        }
        var elements: [GGUFValue] = []
        elements.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            elements.append(try readValue(elementType, "\(what)[\(i)]", depth: depth + 1))
        }
        return .array(elementType, elements)
    }
}
