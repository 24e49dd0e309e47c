/// A strict RFC 8259 parser working on UTF-8 bytes, without Foundation.
///
/// Rejects what lenient parsers let through, because a policy file that means two things is a
/// security bug: duplicate keys, trailing data after the value, invalid UTF-8 (overlong forms,
/// encoded surrogates), raw control characters in strings, lone UTF-16 surrogates in `\u` escapes,
/// a byte-order mark, and nesting deeper than `maximumDepth`.
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 128

    /// Parses `bytes` into a value.
    public static func parse(_ bytes: [UInt8], file: String? = nil) throws(JSONError) -> JSONValue {
        try parseDocument(bytes, file: file).root
    }

    /// Parses `text` into a value.
    public static func parse(_ text: String, file: String? = nil) throws(JSONError) -> JSONValue {
        try parseDocument(Array(text.utf8), file: file).root
    }

    /// Parses `bytes` into a document that remembers every node's position.
    public static func parseDocument(_ bytes: [UInt8], file: String? = nil) throws(JSONError) -> JSONDocument {
        let result: Result<JSONDocument, JSONError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = ByteParser(bytes: buffer, file: file)
            do throws(JSONError) {
                let root = try parser.parseTop()
                return .success(JSONDocument(file: file, root: root, bytes: bytes, offsets: parser.offsets,
                                             keyOffsets: parser.keyOffsets, sizes: parser.sizes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses `text` into a document that remembers every node's position.
    public static func parseDocument(_ text: String, file: String? = nil) throws(JSONError) -> JSONDocument {
        try parseDocument(Array(text.utf8), file: file)
    }
}

/// The recursive-descent parser proper; one instance per parse.
struct ByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let file: String?
    var index = 0
    var depth = 0
    var offsets: [Int] = []
    var keyOffsets: [Int] = []
    var sizes: [Int] = []

    init(bytes: UnsafeBufferPointer<UInt8>, file: String?) {
        self.bytes = bytes
        self.file = file
        let estimate = bytes.count / 8
        offsets.reserveCapacity(estimate); keyOffsets.reserveCapacity(estimate); sizes.reserveCapacity(estimate)
    }

    func fail(_ code: JSONError.Code, _ message: String, at offset: Int? = nil) -> JSONError {
        let at = offset ?? index
        let (line, column) = TextPosition.lineColumn(in: bytes, offset: at)
        return JSONError(code: code, file: file, offset: at, line: line, column: column, path: nil, message: message)
    }

    mutating func parseTop() throws(JSONError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw fail(.syntax, "byte-order mark at start of file (save it as UTF-8 without BOM)")
        }
        skipWhitespace()
        let value = try parseValue(keyOffset: -1)
        skipWhitespace()
        if index < bytes.count { throw fail(.trailingData, "unexpected \(describe(bytes[index])) after the JSON value") }
        return value
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    mutating func parseValue(keyOffset: Int) throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input, expected a value") }
        let node = offsets.count
        offsets.append(index); keyOffsets.append(keyOffset); sizes.append(1)
        let value: JSONValue
        switch bytes[index] {
        case UInt8(ascii: "{"): value = .object(try parseObject())
        case UInt8(ascii: "["): value = .array(try parseArray())
        case UInt8(ascii: "\""): value = .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); value = .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); value = .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); value = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = .number(try parseNumber())
        default: throw fail(.syntax, "unexpected \(describe(bytes[index])), expected a value")
        }
        sizes[node] = offsets.count - node
        return value
    }

    mutating func expectWord(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        let start = index
        guard bytes.count - index >= count else { throw fail(.unexpectedEnd, "unexpected end of input in '\(word)'") }
        for k in 0..<count where bytes[index + k] != word.utf8Start[k] {
            throw fail(.syntax, "invalid literal, expected '\(word)'", at: start)
        }
        index += count
    }

    mutating func enter() throws(JSONError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw fail(.tooDeep, "nesting deeper than \(JSONParser.maximumDepth) levels") }
    }

    mutating func parseArray() throws(JSONError) -> [JSONValue] {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; depth -= 1; return elements }
        while true {
            skipWhitespace()
            elements.append(try parseValue(keyOffset: -1))
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in an array") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; depth -= 1; return elements
            default: throw fail(.syntax, "unexpected \(describe(bytes[index])) in an array, expected ',' or ']'")
            }
        }
    }

    mutating func parseObject() throws(JSONError) -> JSONObject {
        try enter()
        index += 1
        var object = JSONObject()
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; depth -= 1; return object }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in an object") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw fail(.syntax, "unexpected \(describe(bytes[index])) in an object, expected a member name in double quotes")
            }
            let keyStart = index
            let key = try parseString()
            // Small objects: a linear scan beats hashing; large ones switch to a set.
            let duplicate: Bool
            if object.count < 16 {
                duplicate = object.keys.contains(key)
                if object.count == 15 { seen = Set(object.keys); seen.insert(key) }
            } else {
                duplicate = !seen.insert(key).inserted
            }
            guard !duplicate else { throw fail(.duplicateKey, "duplicate key \"\(key)\"", at: keyStart) }
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in an object") }
            guard bytes[index] == UInt8(ascii: ":") else { throw fail(.syntax, "expected ':' after member name \"\(key)\"") }
            index += 1
            skipWhitespace()
            object.appendUnchecked(key, try parseValue(keyOffset: keyStart))
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd, "unexpected end of input in an object") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; depth -= 1; return object
            default: throw fail(.syntax, "unexpected \(describe(bytes[index])) in an object, expected ',' or '}'")
            }
        }
    }

    mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = index
        let scan = JSONNumberGrammar.scan(bytes, from: index)
        if let problem = scan.error { throw fail(.invalidNumber, problem, at: scan.end) }
        index = scan.end
        return JSONNumber(uncheckedLiteral: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }
}

/// The JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
enum JSONNumberGrammar {
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, error: String?) {
        var i = start
        func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= UInt8(ascii: "0") && bytes[k] <= UInt8(ascii: "9") }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return (i, "a number needs a digit here") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { return (i, "a number may not have leading zeros") }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return (i, "a number needs digits after the decimal point") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return (i, "a number needs digits in its exponent") }
            while isDigit(i) { i += 1 }
        }
        return (i, nil)
    }
}
