/// Why the broker refused or failed a call; maps to an HTTP status and an OpenAI / JSON-RPC error.
public struct BrokerError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Malformed or invalid request (400).
        public static let invalidRequest = Code(rawValue: "invalid_request_error")
        /// Missing or wrong per-run token (401).
        public static let unauthorized = Code(rawValue: "authentication_error")
        /// The policy does not allow this model, tool or argument (403, x-should-retry: false).
        public static let policyDenied = Code(rawValue: "policy_denied")
        /// The run's token budget is spent (403, x-should-retry: false).
        public static let budgetExhausted = Code(rawValue: "budget_exhausted")
        /// A guardrail blocked the content (400, x-should-retry: false).
        public static let guardrailBlocked = Code(rawValue: "guardrail_blocked")
        /// Requests or tokens per minute exceeded (429 with retry-after-ms).
        public static let rateLimited = Code(rawValue: "rate_limit_exceeded")
        /// Too many calls of this run in flight (429 with retry-after-ms).
        public static let tooManyConcurrent = Code(rawValue: "concurrency_limit_exceeded")
        /// Unknown path or model (404).
        public static let notFound = Code(rawValue: "not_found_error")
        /// The model or tool failed (500).
        public static let internalError = Code(rawValue: "internal_error")
    }

    public var code: Code
    public var message: String
    /// For rate limits: when to try again.
    public var retryAfterMilliseconds: Int?
    /// The request field at fault (OpenAI's `param`), as a JSON path, if any.
    public var param: String? = nil

    public init(_ code: Code, _ message: String, retryAfterMilliseconds: Int? = nil) {
        self.code = code; self.message = message; self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public var description: String { "\(code): \(message)" }
}
