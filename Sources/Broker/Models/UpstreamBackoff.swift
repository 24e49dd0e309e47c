import Glibc
import HTTPServer
import Specs

/// One configured endpoint, ready to call: the parsed URL of its chat-completions path, the model
/// id it knows the model by, the API key read from the environment, and its timing rules.
public struct UpstreamTarget: Sendable {
    /// `<base>/chat/completions`.
    public var url: HTTPURL
    /// The base URL as configured, for messages (never the key).
    public var label: String
    /// The model id sent upstream.
    public var model: String
    public var apiKey: String?
    public var timeouts: ModelServing.UpstreamTimeouts
    public var retries: Int
    public var backoffMilliseconds: Int
    public var maxBackoffMilliseconds: Int

    /// The endpoint `endpoint` of the model policies call `name`; an `apiKeyEnv` that names an unset
    /// variable is a configuration error now rather than a 401 on the first call.
    public init(_ endpoint: ModelServing.UpstreamEndpoint, modelName name: String,
                environment: (String) -> String? = UpstreamTarget.processEnvironment) throws(BrokerError) {
        url = HTTPURL(host: endpoint.host, port: endpoint.port, target: endpoint.basePath + "/chat/completions")
        label = endpoint.url
        model = endpoint.model ?? name
        if let variable = endpoint.apiKeyEnv {
            guard let key = environment(variable), !key.isEmpty else {
                throw BrokerError(.internalError, "upstream \(endpoint.url) of model \"\(name)\": the API key variable \(variable) is not set")
            }
            guard key.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
                throw BrokerError(.internalError, "upstream \(endpoint.url) of model \"\(name)\": \(variable) holds spaces or control characters")
            }
            apiKey = key
        }
        timeouts = endpoint.timeouts
        retries = endpoint.retries
        backoffMilliseconds = endpoint.backoffMilliseconds
        maxBackoffMilliseconds = endpoint.maxBackoffMilliseconds
    }

    /// `getenv`.
    public static func processEnvironment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Delays between attempts at one endpoint.
///
/// Retry `n` (1-based) waits `min(maxBackoffMs, backoffMs · 2^(n-1))`, less up to half of it at
/// random ("equal jitter": concurrent callers spread out, and the wait never drops below half);
/// with the defaults (250 ms, cap 8 s, 2 retries) that is 125–250 ms, then 250–500 ms. An upstream's
/// `retry-after-ms` (OpenAI's) or `Retry-After` in seconds replaces the computed delay; one longer
/// than `maxRetryAfterMilliseconds` ends the retries at that endpoint (the next one is tried).
public enum UpstreamBackoff {
    /// The longest server-requested wait honoured before moving on.
    public static let maxRetryAfterMilliseconds = 60_000

    /// The computed delay of retry `retry`, with `jitter` in 0...1.
    public static func delay(retry: Int, base: Int, cap: Int, jitter: Double) -> Int {
        let doubled = base << min(max(retry - 1, 0), 30)
        let full = min(cap, doubled)
        return full - Int(Double(full / 2) * min(max(jitter, 0), 1))
    }

    /// The wait a response asks for, in milliseconds: `retry-after-ms` first, else `retry-after`
    /// in whole seconds (an HTTP-date is ignored: the computed backoff applies).
    public static func retryAfter(_ headers: HTTPHeaders) -> Int? {
        if let text = headers["retry-after-ms"], let value = Double(text.trimmingWhitespace()), value.isFinite, value >= 0 {
            return Int(min(value.rounded(.up), 1e9))
        }
        if let text = headers["retry-after"], let seconds = Int(text.trimmingWhitespace()), seconds >= 0 {
            return min(seconds, 1_000_000) * 1000
        }
        return nil
    }

    /// Sleeps `milliseconds` in short slices; false as soon as `isCancelled` says so.
    static func sleep(milliseconds: Int, isCancelled: () -> Bool) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(milliseconds)
        while clock.now < end {
            if isCancelled() { return false }
            let left = min(end - clock.now, UpstreamAttempt.pollSlice)
            let (seconds, attoseconds) = left.components
            var pause = timespec(tv_sec: Int(max(seconds, 0)), tv_nsec: Int(max(attoseconds, 0) / 1_000_000_000))
            var rest = timespec()
            while nanosleep(&pause, &rest) != 0 && errno == EINTR { pause = rest }
        }
        return !isCancelled()
    }
}
