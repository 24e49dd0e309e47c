/// A parsed JSON value. Numbers keep their literal text so 64-bit integers survive untouched,
/// and objects keep their members in source order (RFC 8259 leaves order to the implementation;
/// specs and traces read better when it is preserved).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The kind of value, as a word for error messages ("a string", "an object", ...).
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON number, stored as the literal text it was written with.
///
/// Conversions are explicit and checked: `int64` is nil for `1.5`, `1e3` or an integer that does not fit.
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The literal, always valid JSON number syntax.
    public let literal: String

    /// Wraps a literal already known to match the JSON number grammar (the parser's path).
    init(uncheckedLiteral: String) { literal = uncheckedLiteral }

    /// Wraps a literal after checking it against the JSON number grammar.
    public init?(literal: String) {
        let bytes = Array(literal.utf8)
        let ok = bytes.withUnsafeBufferPointer { buffer -> Bool in
            let scan = JSONNumberGrammar.scan(buffer, from: 0)
            return scan.error == nil && scan.end == buffer.count
        }
        guard ok, !bytes.isEmpty else { return nil }
        self.literal = literal
    }

    /// A number from a signed integer.
    public init(_ value: Int64) { literal = String(value) }
    /// A number from a signed integer.
    public init(_ value: Int) { literal = String(value) }
    /// A number from an unsigned integer.
    public init(_ value: UInt64) { literal = String(value) }
    /// A number from a finite double (shortest round-trip text); nil for NaN and infinities.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            literal = String(Int64(value))
        } else {
            literal = value.description
        }
    }

    public var description: String { literal }

    /// True when the literal has no fraction and no exponent.
    public var isInteger: Bool { !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) }

    /// The value as Int64, or nil when it is not an integer literal or does not fit.
    public var int64: Int64? { isInteger ? Int64(literal) : nil }

    /// The value as UInt64, or nil when it is not a non-negative integer literal or does not fit.
    public var uint64: UInt64? { isInteger ? UInt64(literal) : nil }

    /// The value as a Double (nearest; huge literals become infinity).
    public var double: Double { Double(literal) ?? .nan }
}

/// A JSON object that keeps its members in order. Keys are unique (the parser rejects duplicates).
public struct JSONObject: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// The member names, in order.
    public private(set) var keys: [String]
    /// The member values, parallel to `keys`.
    public private(set) var values: [JSONValue]

    /// An empty object.
    public init() { keys = []; values = [] }

    /// An object with the given members in order; a repeated key keeps its last value in the first position.
    public init(_ members: [(String, JSONValue)]) {
        keys = []; values = []
        for (key, value) in members { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    /// Members as (key, value) pairs in order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    /// The number of members.
    public var count: Int { keys.count }

    /// The value for `key`, or nil. Setting nil removes the member; setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let index = keys.firstIndex(of: key) {
                if let newValue { values[index] = newValue } else { keys.remove(at: index); values.remove(at: index) }
            } else if let newValue {
                keys.append(key); values.append(newValue)
            }
        }
    }

    /// Appends a member without checking for an existing key (the parser checks separately).
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        keys.append(key); values.append(value)
    }
}
