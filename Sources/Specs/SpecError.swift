/// A problem with an agent spec or a policy, located by file, line, column and JSON path.
///
/// `description` prints `file:line:column: $.path: message`, the form editors jump to.
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem this is; open for extension.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be read.
        public static let io = Code(rawValue: "io")
        /// The text is not valid JSON.
        public static let syntax = Code(rawValue: "syntax")
        /// A key is missing, unknown, or a value has the wrong type.
        public static let schema = Code(rawValue: "schema")
        /// A value is well-typed but not acceptable (a relative path, a zero limit, ...).
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// A spec's limit is looser than its policy's.
        public static let loosensPolicy = Code(rawValue: "loosens-policy")
        /// A syscall name the resolver does not know for the target architecture.
        public static let unknownSyscall = Code(rawValue: "unknown-syscall")
    }

    public var code: Code
    public var file: String
    /// 1-based line, or 0 when the error is about the whole file.
    public var line: Int
    /// 1-based column, or 0 when the error is about the whole file.
    public var column: Int
    /// The JSON path of the value concerned, or nil.
    public var path: String?
    public var message: String

    public init(code: Code, file: String, line: Int = 0, column: Int = 0, path: String? = nil, message: String) {
        self.code = code; self.file = file; self.line = line; self.column = column
        self.path = path; self.message = message
    }

    /// Wraps a JSON syntax or reader error.
    public init(_ error: JSONError) {
        let schemaCodes: Set<JSONError.Code> = [.typeMismatch, .missingKey, .unknownKey]
        let code: Code = error.code == .invalidValue ? .invalidValue : schemaCodes.contains(error.code) ? .schema : .syntax
        self.init(code: code, file: error.file ?? "<input>", line: error.line, column: error.column,
                  path: error.path, message: error.message)
    }

    public var description: String {
        var text = file
        if line > 0 { text += ":\(line):\(column)" }
        text += ": "
        if let path { text += path + ": " }
        return text + message
    }
}

/// Where a value came from in a spec or policy file, kept so that later stages (the seccomp
/// compiler's syscall-name check) can report errors at the right place.
public struct SourceRef: Sendable {
    let reader: JSONReader?

    init(_ reader: JSONReader?) { self.reader = reader }

    /// A reference to nowhere, for values built in code.
    public static let none = SourceRef(nil)

    /// An error located at the referenced value.
    public func error(_ message: String, code: SpecError.Code = .invalidValue) -> SpecError {
        guard let reader else { return SpecError(code: code, file: "<built-in>", message: message) }
        var error = SpecError(reader.error(message))
        error.code = code
        return error
    }
}

extension JSONReader {
    /// A `SpecError` located at this value.
    func specError(_ message: String, code: SpecError.Code = .invalidValue) -> SpecError {
        var error = SpecError(self.error(message))
        error.code = code
        return error
    }
}
