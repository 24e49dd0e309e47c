/// A strict, Decodable-free reader: a cursor on one node of a `JSONDocument` that pulls typed values
/// and reports every mismatch as a `JSONError` naming file, line, column and JSON path.
///
/// Objects are read through `object(keys:)`, which rejects any member not in the declared list with
/// a "did you mean" hint, so a misspelt policy field is an error rather than a silently ignored
/// weakening. Adding a field to a schema is one more key in that list and one more `optional` call.
public struct JSONReader: Sendable {
    /// The document this node belongs to.
    public let document: JSONDocument
    /// The value at this node.
    public let value: JSONValue
    /// The node's pre-order index in the document.
    public let node: Int
    /// The parent's path and this node's step from it; the node's own `JSONPath` object is only
    /// allocated when asked for (errors, or descending into a container), which keeps leaf-heavy
    /// documents such as syscall lists cheap to walk.
    let parentPath: JSONPath?
    let step: JSONPath.Component

    init(document: JSONDocument, value: JSONValue, node: Int, path: JSONPath) {
        self.document = document; self.value = value; self.node = node
        self.parentPath = path.parent; self.step = path.component
    }

    init(document: JSONDocument, value: JSONValue, node: Int, parent: JSONPath, step: JSONPath.Component) {
        self.document = document; self.value = value; self.node = node
        self.parentPath = parent; self.step = step
    }

    /// The node's JSON path.
    public var path: JSONPath {
        guard let parentPath else { return .root }
        return JSONPath(parent: parentPath, component: step)
    }

    /// An error located at this node (at its member key when `atKey` is true).
    public func error(_ message: String, code: JSONError.Code = .invalidValue, atKey: Bool = false) -> JSONError {
        document.error(code, at: node, atKey: atKey, path: path, message)
    }

    /// 1-based line and column where this value starts.
    public var lineColumn: (line: Int, column: Int) { document.lineColumn(ofNode: node) }

    /// True when the value is `null`.
    public var isNull: Bool { value == .null }

    func mismatch(_ expected: String) -> JSONError {
        error("expected \(expected), found \(value.kindDescription)", code: .typeMismatch)
    }

    /// The value as a string.
    public func string() throws(JSONError) -> String {
        guard case .string(let text) = value else { throw mismatch("a string") }
        return text
    }

    /// The value as a boolean.
    public func bool() throws(JSONError) -> Bool {
        guard case .bool(let flag) = value else { throw mismatch("true or false") }
        return flag
    }

    /// The value as a number.
    public func number() throws(JSONError) -> JSONNumber {
        guard case .number(let number) = value else { throw mismatch("a number") }
        return number
    }

    /// The value as an integer within `range`; fractions, exponents and overflow are errors.
    public func integer(in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(JSONError) -> Int64 {
        let number = try number()
        guard number.isInteger else { throw error("expected an integer, found \(number.literal)") }
        guard let value = number.int64 else { throw error("\(number.literal) is too large (limit \(range.upperBound))") }
        guard range.contains(value) else {
            throw error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return value
    }

    /// The elements of an array, each with its own reader.
    public func array() throws(JSONError) -> [JSONReader] {
        guard case .array(let elements) = value else { throw mismatch("an array") }
        var readers: [JSONReader] = []
        readers.reserveCapacity(elements.count)
        var child = node + 1
        let path = self.path
        for (i, element) in elements.enumerated() {
            readers.append(JSONReader(document: document, value: element, node: child, parent: path, step: .index(i)))
            child += document.sizes[child]
        }
        return readers
    }

    /// An array of strings.
    public func stringArray() throws(JSONError) -> [String] {
        var strings: [String] = []
        for element in try array() { strings.append(try element.string()) }
        return strings
    }

    /// The value as an object whose member names must all be in `keys`.
    public func object(keys: [String]) throws(JSONError) -> JSONObjectReader {
        let object = try anyObject()
        for member in object.members where !keys.contains(member.key) {
            var message = "unknown key \"\(member.key)\""
            if let suggestion = Spelling.suggestion(for: member.key, among: keys) {
                message += "; did you mean \"\(suggestion)\"?"
            } else {
                message += " (allowed: \(keys.joined(separator: ", ")))"
            }
            throw member.reader.error(message, code: .unknownKey, atKey: true)
        }
        return object
    }

    /// The value as an object with any member names (maps such as `environment`).
    public func anyObject() throws(JSONError) -> JSONObjectReader {
        guard case .object(let object) = value else { throw mismatch("an object") }
        var members: [JSONObjectReader.Member] = []
        members.reserveCapacity(object.count)
        var child = node + 1
        let path = self.path
        for (key, member) in object.members {
            members.append(.init(key: key, reader: JSONReader(document: document, value: member, node: child,
                                                              parent: path, step: .key(key))))
            child += document.sizes[child]
        }
        return JSONObjectReader(reader: self, members: members)
    }
}

/// The members of an object node, each with its own reader.
public struct JSONObjectReader: Sendable {
    /// One member: its name and a reader on its value.
    public struct Member: Sendable {
        public let key: String
        public let reader: JSONReader
    }

    /// A reader on the object itself.
    public let reader: JSONReader
    /// The members in source order.
    public let members: [Member]

    /// The member `key`, or nil when absent.
    public func optional(_ key: String) -> JSONReader? {
        members.first(where: { $0.key == key })?.reader
    }

    /// The member `key`, or a `missingKey` error at the object.
    public func required(_ key: String) throws(JSONError) -> JSONReader {
        guard let member = optional(key) else {
            throw reader.error("missing required key \"\(key)\"", code: .missingKey)
        }
        return member
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Spelling {
    /// The candidate closest to `word` when it is close enough to be a likely typo, else nil.
    public static func suggestion(for word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = candidate.lowercased() == lowered ? 0 : editDistance(Array(lowered.utf8), Array(candidate.lowercased().utf8))
            if distance <= max(1, min(3, candidate.utf8.count / 3)), distance < (best?.1 ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
