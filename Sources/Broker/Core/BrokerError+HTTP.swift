import HTTPServer
import Specs

extension BrokerError.Code {
    /// The prompt plus the requested completion do not fit the model's context (400).
    public static let contextLengthExceeded = BrokerError.Code(rawValue: "context_length_exceeded")
    /// The method is not served at this path (405).
    public static let methodNotAllowed = BrokerError.Code(rawValue: "method_not_allowed")
    /// The inference pool's queues are full (429 with retry-after-ms).
    public static let modelOverloaded = BrokerError.Code(rawValue: "model_overloaded")
    /// The request's deadline (the policy's requestTimeoutSeconds) passed before the model finished (504).
    public static let deadlineExceeded = BrokerError.Code(rawValue: "deadline_exceeded")
    /// No model worker can serve now (shutting down, or an upstream unreachable) (503).
    public static let modelUnavailable = BrokerError.Code(rawValue: "model_unavailable")
}

extension BrokerError {
    /// An invalid-request error about the field at `param` (a JSON path such as `$.messages[2].role`).
    public static func invalid(_ message: String, param: String?) -> BrokerError {
        var error = BrokerError(.invalidRequest, message)
        error.param = param
        return error
    }

    /// The HTTP status this error answers with.
    public var httpStatus: Int {
        switch code {
        case .invalidRequest, .guardrailBlocked, .contextLengthExceeded: return 400
        case .unauthorized: return 401
        case .policyDenied, .budgetExhausted: return 403
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .rateLimited, .tooManyConcurrent, .modelOverloaded: return 429
        case .modelUnavailable: return 503
        case .deadlineExceeded: return 504
        default: return 500
        }
    }

    /// OpenAI's `error.type` for this error.
    public var openAIType: String {
        switch code {
        case .unauthorized: return "authentication_error"
        case .policyDenied, .budgetExhausted: return "permission_error"
        case .rateLimited, .tooManyConcurrent, .modelOverloaded: return "rate_limit_error"
        case .notFound: return "not_found_error"
        case .internalError, .modelUnavailable, .deadlineExceeded: return "server_error"
        default: return "invalid_request_error"
        }
    }

    /// `{"error": {"message", "type", "param", "code"}}`, OpenAI's error object.
    public var openAIErrorJSON: JSONValue {
        .object(JSONObject([("error", .object(JSONObject([
            ("message", .string(message)), ("type", .string(openAIType)),
            ("param", param.map { .string($0) } ?? .null), ("code", .string(code.rawValue)),
        ])))]))
    }

    /// The headers that steer the official SDKs: a rate limit says when to retry (they honour
    /// `retry-after-ms`); every other refusal says not to retry at all (they retry 408/409/429/5xx).
    public var responseHeaders: HTTPHeaders {
        var headers = HTTPHeaders([("content-type", "application/json")])
        if let wait = retryAfterMilliseconds, httpStatus == 429 {
            headers.add("retry-after-ms", String(wait))
            headers.add("retry-after", String((wait + 999) / 1000))
        } else {
            headers.add("x-should-retry", "false")
        }
        return headers
    }

    /// The complete HTTP response for this error.
    public var httpResponse: HTTPResponse {
        HTTPResponse(status: httpStatus, headers: responseHeaders, body: JSONWriter.compactBytes(openAIErrorJSON))
    }
}
