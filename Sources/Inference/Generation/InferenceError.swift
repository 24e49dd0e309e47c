// TEMPORARY until inference-core's GGUF/InferenceError.swift is merged (same API).
public struct InferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        public static let io = Code("io")
        public static let modelNotFound = Code("model-not-found")
        public static let contextOverflow = Code("context-overflow")
        public static let invalidArgument = Code("invalid-argument")
    }
    public var code: Code
    public var message: String
    public var path: String?
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }
    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }
}
