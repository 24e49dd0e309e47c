/// The key/value metadata of a GGUF file, in file order, with typed accessors that throw a clear error
/// naming the key when it is missing or holds another type.
public struct GGUFMetadata: Sendable {
    /// Keys in the order they appear in the file.
    public let keys: [String]
    private let values: [String: GGUFValue]
    /// The file the metadata came from (for error messages).
    public let path: String?

    init(keys: [String], values: [String: GGUFValue], path: String?) {
        self.keys = keys
        self.values = values
        self.path = path
    }

    /// The raw value for `key`, or nil when absent.
    public subscript(key: String) -> GGUFValue? { values[key] }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { values[key] != nil }

    private func require(_ key: String) throws(InferenceError) -> GGUFValue {
        guard let value = values[key] else {
            throw InferenceError(.missingKey, "metadata key '\(key)' is missing", path: path)
        }
        return value
    }

    private func mismatch(_ key: String, _ value: GGUFValue, _ wanted: String) -> InferenceError {
        InferenceError(.typeMismatch, "metadata key '\(key)' holds \(value.typeDescription), expected \(wanted)", path: path)
    }

    /// A string value.
    public func string(_ key: String) throws(InferenceError) -> String {
        let value = try require(key)
        guard case .string(let s) = value else { throw mismatch(key, value, "string") }
        return s
    }

    /// A bool value.
    public func bool(_ key: String) throws(InferenceError) -> Bool {
        let value = try require(key)
        guard case .bool(let b) = value else { throw mismatch(key, value, "bool") }
        return b
    }

    /// A uint32 value (exact type).
    public func uint32(_ key: String) throws(InferenceError) -> UInt32 {
        let value = try require(key)
        guard case .uint32(let v) = value else { throw mismatch(key, value, "uint32") }
        return v
    }

    /// An int32 value (exact type).
    public func int32(_ key: String) throws(InferenceError) -> Int32 {
        let value = try require(key)
        guard case .int32(let v) = value else { throw mismatch(key, value, "int32") }
        return v
    }

    /// A uint64 value (exact type).
    public func uint64(_ key: String) throws(InferenceError) -> UInt64 {
        let value = try require(key)
        guard case .uint64(let v) = value else { throw mismatch(key, value, "uint64") }
        return v
    }

    /// A float32 value (exact type).
    public func float32(_ key: String) throws(InferenceError) -> Float {
        let value = try require(key)
        guard case .float32(let v) = value else { throw mismatch(key, value, "float32") }
        return v
    }

    /// Any integer-typed value as Int (converters disagree on u32/i32/u64 for counts).
    public func int(_ key: String) throws(InferenceError) -> Int {
        let value = try require(key)
        guard let v = value.integerValue else { throw mismatch(key, value, "an integer") }
        return v
    }

    /// Any floating-point value as Float.
    public func float(_ key: String) throws(InferenceError) -> Float {
        let value = try require(key)
        guard let v = value.floatValue else { throw mismatch(key, value, "a float") }
        return v
    }

    private func array(_ key: String, of type: GGUFValueType) throws(InferenceError) -> [GGUFValue] {
        let value = try require(key)
        guard case .array(let t, let elements) = value, t == type else { throw mismatch(key, value, "array<\(type)>") }
        return elements
    }

    /// An array of strings, e.g. `tokenizer.ggml.tokens`.
    public func stringArray(_ key: String) throws(InferenceError) -> [String] {
        try array(key, of: .string).map { if case .string(let s) = $0 { s } else { "" } }
    }

    /// An array of int32, e.g. `tokenizer.ggml.token_type`.
    public func int32Array(_ key: String) throws(InferenceError) -> [Int32] {
        try array(key, of: .int32).map { if case .int32(let v) = $0 { v } else { 0 } }
    }

    /// An array of uint32.
    public func uint32Array(_ key: String) throws(InferenceError) -> [UInt32] {
        try array(key, of: .uint32).map { if case .uint32(let v) = $0 { v } else { 0 } }
    }

    /// An array of float32, e.g. `tokenizer.ggml.scores`.
    public func float32Array(_ key: String) throws(InferenceError) -> [Float] {
        try array(key, of: .float32).map { if case .float32(let v) = $0 { v } else { 0 } }
    }
}
