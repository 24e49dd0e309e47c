/// The one error type of the Inference module: a code to branch on and a message that names the problem.
public struct InferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of failure this is; extensible by other files with `extension InferenceError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be opened, sized or mapped.
        public static let io = Code("io")
        /// The model file does not exist.
        public static let modelNotFound = Code("model-not-found")
        /// The bytes are not a well-formed GGUF file (magic, counts, lengths, offsets, truncation).
        public static let malformedFile = Code("malformed-file")
        /// A metadata key the caller needs is absent.
        public static let missingKey = Code("missing-key")
        /// A metadata value or tensor has a different type than required.
        public static let typeMismatch = Code("type-mismatch")
        /// A tensor the model needs is absent.
        public static let missingTensor = Code("missing-tensor")
        /// A tensor's shape does not fit the model's hyperparameters.
        public static let shapeMismatch = Code("shape-mismatch")
        /// A tensor type the engine has no kernel for, or an architecture it does not run.
        public static let unsupported = Code("unsupported")
        /// The hyperparameters are inconsistent or out of range.
        public static let invalidConfig = Code("invalid-config")
        /// A sequence would grow past its context capacity.
        public static let contextOverflow = Code("context-overflow")
        /// A sequence handle is unknown or used twice in one batch.
        public static let invalidSequence = Code("invalid-sequence")
        /// A token id outside the vocabulary.
        public static let invalidToken = Code("invalid-token")
        /// An argument outside its allowed range.
        public static let invalidArgument = Code("invalid-argument")
    }

    public var code: Code
    public var message: String
    /// The file the error is about, when there is one.
    public var path: String?
    /// For `.overloaded`: how long to wait before trying again.
    public var retryAfterMilliseconds: Int?

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

extension InferenceError.Code {
    /// The pool's queues are full (CONTRACT); `retryAfterMilliseconds` says when to try again.
    public static let overloaded = InferenceError.Code("overloaded")
    /// A request's deadline passed before it finished (CONTRACT).
    public static let deadlineExceeded = InferenceError.Code("deadline-exceeded")
    /// The request was cancelled: the client went away or the agent's run ended (CONTRACT).
    public static let cancelled = InferenceError.Code("cancelled")
    /// The pool is shut down or has no worker that can serve (CONTRACT).
    public static let unavailable = InferenceError.Code("unavailable")
}
