import Glibc

/// A problem the supervisor reports: to a control-API caller as `{"error": {"message", "code"}}`
/// with `httpStatus`, or to `warden serve` at start-up.
public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is; open for extension.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The request is malformed (bad JSON, a missing or mistyped field): 400.
        public static let badRequest = Code(rawValue: "bad_request")
        /// The agent spec (or its policy) is invalid; the message names file:line:column and path: 400.
        public static let invalidSpec = Code(rawValue: "invalid_spec")
        /// No such agent or run: 404.
        public static let notFound = Code(rawValue: "not_found")
        /// The method is not allowed on this path: 405.
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        /// The name is taken, or the run is not in a state that allows the operation: 409.
        public static let conflict = Code(rawValue: "conflict")
        /// The agent's invocation queue is full: 429.
        public static let queueFull = Code(rawValue: "queue_full")
        /// The supervisor is shutting down and accepts no new work: 503.
        public static let shuttingDown = Code(rawValue: "shutting_down")
        /// The configuration file is invalid (start-up).
        public static let configuration = Code(rawValue: "configuration")
        /// A file or socket operation failed.
        public static let io = Code(rawValue: "io")
        /// No supervisor answers on the control socket (CLI clients).
        public static let unreachable = Code(rawValue: "unreachable")
        /// Another supervisor already answers on the control socket (start-up).
        public static let alreadyRunning = Code(rawValue: "already_running")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The HTTP status the control API answers this error with.
    public var httpStatus: Int {
        switch code {
        case .badRequest, .invalidSpec: return 400
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .conflict: return 409
        case .queueFull: return 429
        case .shuttingDown: return 503
        default: return 500
        }
    }

    /// An I/O error naming the operation, the path and errno's text.
    static func system(_ operation: String, _ path: String, _ code: Int32 = errno) -> SupervisorError {
        SupervisorError(.io, "\(operation) \(path): \(String(cString: strerror(code)))")
    }
}
