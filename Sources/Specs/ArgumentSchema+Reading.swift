/// Strict reading of an `ArgumentSchema`: unknown keywords, wrong types and contradictions
/// (minimum above maximum, `required` naming a property that `additionalProperties: false` forbids)
/// are errors at policy load, located by file, line, column and JSON path.
extension ArgumentSchema {
    /// Reads the schema at `reader` (an object; `true` is not accepted, write `{}`).
    public static func read(_ reader: JSONReader) throws(SpecError) -> ArgumentSchema {
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        for key in ["description", "title"] { _ = try object.optional(key)?.text(allowEmpty: true) }
        let types = try object.optional("type").map { (r: JSONReader) throws(SpecError) in try readTypes(r) }
        let properties = try object.optional("properties").map { (r: JSONReader) throws(SpecError) in try readProperties(r) } ?? []
        let required = try object.optional("required").map { (r: JSONReader) throws(SpecError) in try readRequired(r) } ?? []
        let additional = try object.optional("additionalProperties").map { (r: JSONReader) throws(SpecError) in try readAdditional(r) } ?? .allowed
        if case .forbidden = additional {
            for name in required where !properties.contains(where: { $0.0 == name }) {
                throw reader.specError("\"\(name)\" is required but additionalProperties is false and it is not in properties")
            }
        }
        var enumValues: [JSONValue]?
        if let values = object.optional("enum") {
            do { enumValues = try values.array().map(\.value) } catch { throw SpecError(error) }
            if enumValues?.isEmpty == true { throw values.specError("an empty enum allows nothing") }
        }
        let lengths = (try count(object, "minLength"), try count(object, "maxLength"))
        let bounds = (try bound(object, "minimum"), try bound(object, "maximum"))
        let itemCounts = (try count(object, "minItems"), try count(object, "maxItems"))
        try checkOrder(object, lengths, "minLength", "maxLength")
        try checkOrder(object, itemCounts, "minItems", "maxItems")
        if let low = bounds.0, let high = bounds.1, low > high, let at = object.optional("minimum") {
            throw at.specError("minimum is above maximum")
        }
        let items = try object.optional("items").map { (r: JSONReader) throws(SpecError) in try read(r) }
        let pattern = try object.optional("pattern").map { (r: JSONReader) throws(SpecError) in try readPattern(r) }
        return ArgumentSchema(types: types, properties: properties, required: required, additional: additional,
                              enumValues: enumValues, constValue: object.optional("const")?.value, lengths: lengths,
                              bounds: bounds, items: items, itemCounts: itemCounts, pattern: pattern, json: reader.value)
    }

    static func readTypes(_ reader: JSONReader) throws(SpecError) -> [Kind] {
        let names: [JSONReader]
        if case .string = reader.value { names = [reader] } else {
            do { names = try reader.array() } catch { throw SpecError(error) }
            if names.isEmpty { throw reader.specError("an empty type list allows nothing") }
        }
        var kinds: [Kind] = []
        for name in names {
            let text = try name.text()
            guard let kind = Kind(rawValue: text) else {
                throw name.specError("unknown type \"\(text)\" (\(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kinds.append(kind)
        }
        return kinds
    }

    static func readProperties(_ reader: JSONReader) throws(SpecError) -> [(String, ArgumentSchema)] {
        let object: JSONObjectReader
        do { object = try reader.anyObject() } catch { throw SpecError(error) }
        var properties: [(String, ArgumentSchema)] = []
        for member in object.members { properties.append((member.key, try read(member.reader))) }
        return properties
    }

    static func readRequired(_ reader: JSONReader) throws(SpecError) -> [String] {
        let names: [String]
        do { names = try reader.stringArray() } catch { throw SpecError(error) }
        if Set(names).count != names.count { throw reader.specError("a property is listed twice") }
        return names
    }

    static func readAdditional(_ reader: JSONReader) throws(SpecError) -> Additional {
        if case .bool(let allowed) = reader.value { return allowed ? .allowed : .forbidden }
        return .schema(try read(reader))
    }

    static func count(_ object: JSONObjectReader, _ key: String) throws(SpecError) -> Int? {
        try object.optional(key).map { (r: JSONReader) throws(SpecError) in try r.count(in: 0...Int64(Int32.max)) }
    }

    static func bound(_ object: JSONObjectReader, _ key: String) throws(SpecError) -> Double? {
        guard let reader = object.optional(key) else { return nil }
        do { return try reader.number().double } catch { throw SpecError(error) }
    }

    static func checkOrder(_ object: JSONObjectReader, _ pair: (Int?, Int?), _ low: String, _ high: String) throws(SpecError) {
        if let a = pair.0, let b = pair.1, a > b, let at = object.optional(low) { throw at.specError("\(low) is above \(high)") }
    }

    static func readPattern(_ reader: JSONReader) throws(SpecError) -> LinearPattern {
        let source = try reader.text(allowEmpty: true)
        do { return try LinearPattern(source) } catch { throw reader.specError("pattern: \(error.message)") }
    }
}
