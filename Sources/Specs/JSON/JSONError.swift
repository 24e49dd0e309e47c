/// A JSON syntax error or a reader (schema) error, located by file, line, column and JSON path.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of error this is; open for extension by the modules that read JSON.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let syntax = Code(rawValue: "syntax")
        public static let unexpectedEnd = Code(rawValue: "unexpected-end")
        public static let trailingData = Code(rawValue: "trailing-data")
        public static let invalidUTF8 = Code(rawValue: "invalid-utf8")
        public static let controlCharacter = Code(rawValue: "control-character")
        public static let invalidEscape = Code(rawValue: "invalid-escape")
        public static let loneSurrogate = Code(rawValue: "lone-surrogate")
        public static let invalidNumber = Code(rawValue: "invalid-number")
        public static let duplicateKey = Code(rawValue: "duplicate-key")
        public static let tooDeep = Code(rawValue: "too-deep")
        public static let typeMismatch = Code(rawValue: "type-mismatch")
        public static let missingKey = Code(rawValue: "missing-key")
        public static let unknownKey = Code(rawValue: "unknown-key")
        public static let invalidValue = Code(rawValue: "invalid-value")
    }

    public var code: Code
    /// The file the text came from, if known.
    public var file: String?
    /// Byte offset into the text.
    public var offset: Int
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int
    /// The JSON path of the value concerned (`$.seccomp.allow.files[3]`), when known.
    public var path: String?
    /// What is wrong, in words.
    public var message: String

    public init(code: Code, file: String?, offset: Int, line: Int, column: Int, path: String?, message: String) {
        self.code = code; self.file = file; self.offset = offset
        self.line = line; self.column = column; self.path = path; self.message = message
    }

    /// `file:line:column: $.path: message`.
    public var description: String {
        var text = "\(file ?? "<input>"):\(line):\(column): "
        if let path { text += path + ": " }
        return text + message
    }
}

/// Maps byte offsets to 1-based line and column (columns in Unicode scalars).
enum TextPosition {
    static func lineColumn(in bytes: UnsafeBufferPointer<UInt8>, offset: Int) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<end where bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
        var column = 1
        for i in lineStart..<end where bytes[i] & 0xC0 != 0x80 { column += 1 }
        return (line, column)
    }

    static func lineColumn(in bytes: [UInt8], offset: Int) -> (line: Int, column: Int) {
        bytes.withUnsafeBufferPointer { lineColumn(in: $0, offset: offset) }
    }
}
