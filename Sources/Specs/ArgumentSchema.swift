/// A JSON Schema subset for tool arguments, read strictly at policy load and checked per call.
///
/// Keywords: `type` (one name or a list), `properties`, `required`, `additionalProperties` (boolean
/// or schema), `enum`, `const`, `minLength`/`maxLength` (in Unicode scalars), `minimum`/`maximum`,
/// `items`, `minItems`/`maxItems`, `pattern` (a linear-time subset, see `LinearPattern`), and the
/// annotations `description`/`title`. Any other keyword is an error: a schema keyword we silently
/// ignored would look like a constraint and constrain nothing.
public final class ArgumentSchema: Sendable {
    /// A JSON type name as JSON Schema spells it.
    public enum Kind: String, Sendable, CaseIterable {
        case string, number, integer, boolean, object, array, null
    }

    /// What `additionalProperties` allows.
    public enum Additional: Sendable {
        case allowed, forbidden, schema(ArgumentSchema)
    }

    public let types: [Kind]?
    public let properties: [(name: String, schema: ArgumentSchema)]
    public let required: [String]
    public let additional: Additional
    public let enumValues: [JSONValue]?
    public let constValue: JSONValue?
    public let minLength: Int?, maxLength: Int?
    public let minimum: Double?, maximum: Double?
    public let items: ArgumentSchema?
    public let minItems: Int?, maxItems: Int?
    public let pattern: LinearPattern?
    /// The schema as written (for `tools/list`).
    public let json: JSONValue

    static let keys = ["type", "properties", "required", "additionalProperties", "enum", "const", "minLength", "maxLength",
                       "minimum", "maximum", "items", "minItems", "maxItems", "pattern", "description", "title"]

    init(types: [Kind]?, properties: [(String, ArgumentSchema)], required: [String], additional: Additional,
         enumValues: [JSONValue]?, constValue: JSONValue?, lengths: (Int?, Int?), bounds: (Double?, Double?),
         items: ArgumentSchema?, itemCounts: (Int?, Int?), pattern: LinearPattern?, json: JSONValue) {
        self.types = types; self.properties = properties.map { (name: $0.0, schema: $0.1) }; self.required = required
        self.additional = additional; self.enumValues = enumValues; self.constValue = constValue
        (minLength, maxLength) = lengths; (minimum, maximum) = bounds; self.items = items
        (minItems, maxItems) = itemCounts; self.pattern = pattern; self.json = json
    }

    /// Parses a schema written in code (the built-in tools' own schemas); nil if it is not valid.
    public static func parse(_ text: String) -> ArgumentSchema? {
        guard let document = try? JSONParser.parseDocument(text) else { return nil }
        return try? read(document.reader)
    }

    /// The first way `value` breaks the schema, as "$.path: reason", or nil when it conforms.
    public func violation(of value: JSONValue, at path: String = "$") -> String? {
        if let types, !types.contains(where: { Self.matches($0, value) }) {
            return "\(path): expected \(types.map(\.rawValue).joined(separator: " or ")), found \(value.kindDescription)"
        }
        if let constValue, constValue != value { return "\(path): must be \(JSONWriter.compact(constValue))" }
        if let enumValues, !enumValues.contains(value) {
            return "\(path): must be one of \(enumValues.map { JSONWriter.compact($0) }.joined(separator: ", "))"
        }
        switch value {
        case .string(let text): return stringViolation(text, at: path)
        case .number(let number): return numberViolation(number.double, at: path)
        case .array(let elements): return arrayViolation(elements, at: path)
        case .object(let object): return objectViolation(object, at: path)
        default: return nil
        }
    }

    static func matches(_ kind: Kind, _ value: JSONValue) -> Bool {
        switch (kind, value) {
        case (.string, .string), (.boolean, .bool), (.object, .object), (.array, .array), (.null, .null), (.number, .number): return true
        case (.integer, .number(let number)): return number.isInteger || number.double == number.double.rounded(.towardZero)
        default: return false
        }
    }

    func stringViolation(_ text: String, at path: String) -> String? {
        if minLength != nil || maxLength != nil {
            let count = text.unicodeScalars.count
            if let minLength, count < minLength { return "\(path): must be at least \(minLength) characters" }
            if let maxLength, count > maxLength { return "\(path): must be at most \(maxLength) characters (has \(count))" }
        }
        if let pattern, !pattern.search(text) { return "\(path): does not match the pattern \(pattern.source)" }
        return nil
    }

    func numberViolation(_ number: Double, at path: String) -> String? {
        if let minimum, !(number >= minimum) { return "\(path): must be at least \(JSONNumber(minimum)?.literal ?? "\(minimum)")" }
        if let maximum, !(number <= maximum) { return "\(path): must be at most \(JSONNumber(maximum)?.literal ?? "\(maximum)")" }
        return nil
    }

    func arrayViolation(_ elements: [JSONValue], at path: String) -> String? {
        if let minItems, elements.count < minItems { return "\(path): must have at least \(minItems) items" }
        if let maxItems, elements.count > maxItems { return "\(path): must have at most \(maxItems) items (has \(elements.count))" }
        guard let items else { return nil }
        for (i, element) in elements.enumerated() {
            if let problem = items.violation(of: element, at: "\(path)[\(i)]") { return problem }
        }
        return nil
    }

    func objectViolation(_ object: JSONObject, at path: String) -> String? {
        for name in required where object[name] == nil { return "\(path): missing required property \"\(name)\"" }
        for (key, member) in object.members {
            let memberPath = path + "." + key
            if let schema = properties.first(where: { $0.name == key })?.schema {
                if let problem = schema.violation(of: member, at: memberPath) { return problem }
                continue
            }
            switch additional {
            case .allowed: continue
            case .forbidden: return "\(path): unexpected property \"\(key)\""
            case .schema(let schema): if let problem = schema.violation(of: member, at: memberPath) { return problem }
            }
        }
        return nil
    }
}
