import HTTPServer
import Specs

/// Why one attempt at an upstream failed, and what that allows next.
struct UpstreamFailure: Error {
    enum Kind: Sendable {
        /// Refused, reset, or closed before the stream finished.
        case connection
        /// A phase ran past its timeout.
        case timeout
        /// A non-200 answer.
        case status
        /// Not HTTP, not an event stream, or a chunk that is not a chat completion chunk.
        case malformed
        /// The upstream reported an error inside the stream.
        case streamError
        /// The caller's deadline (the policy's request timeout) passed.
        case deadline
        /// The caller stopped the call (internal: never leaves the attempt).
        case cancelled
    }

    var kind: Kind
    var message: String
    var status: Int? = nil
    /// The upstream's Retry-After / retry-after-ms, in milliseconds.
    var retryAfterMilliseconds: Int? = nil

    /// Worth asking the same endpoint again after a backoff: transient by nature (connection errors,
    /// timeouts, 5xx, 429). Garbage and other 4xx say the endpoint is wrong, not busy.
    var retriesSameEndpoint: Bool {
        switch kind {
        case .connection, .timeout, .streamError: return true
        case .status: return status == 429 || (status ?? 0) >= 500
        case .malformed, .deadline, .cancelled: return false
        }
    }

    /// The request itself is at fault: another endpoint would refuse it too.
    var isRequestFault: Bool { kind == .status && [400, 413, 422].contains(status ?? 0) }
}

/// What a finished (or cancelled) stream produced.
struct UpstreamStreamResult {
    var text = ""
    var finishReason: String?
    var usage: (prompt: Int, completion: Int)?
    var cancelled = false
}

/// One attempt at one endpoint: connect, send the streamed request, read the head, then the event
/// stream, passing text to `onText` as it arrives. Every wait is cut into short slices so that
/// `isCancelled` is polled at least every `pollSlice` and a cancelled call closes the connection
/// promptly; each phase has its own deadline (connect, first event, idle gap, total).
final class UpstreamAttempt {
    /// How often a blocked read looks at `isCancelled`.
    static let pollSlice: Duration = .milliseconds(50)
    /// The most a streamed answer may total (a runaway or hostile upstream must not cost memory).
    static let maxResponseBytes = 64 << 20
    /// The most an error answer's body is read for its message.
    static let maxErrorBody = 64 * 1024

    let target: UpstreamTarget
    let request: HTTPRequest
    let isCancelled: () -> Bool
    let onText: (String) -> Void
    /// The caller's deadline, which cuts every phase short.
    let deadline: ContinuousClock.Instant?
    /// True once any text went to `onText`: from then on a failure may not be retried.
    private(set) var textSent = false
    private var result = UpstreamStreamResult()
    private let clock = ContinuousClock()

    init(target: UpstreamTarget, body: [UInt8], deadline: ContinuousClock.Instant?, isCancelled: @escaping () -> Bool,
         onText: @escaping (String) -> Void) {
        self.target = target; self.deadline = deadline; self.isCancelled = isCancelled; self.onText = onText
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Accept", "text/event-stream"),
                                   ("User-Agent", "warden-broker"), ("Connection", "close")])
        if let key = target.apiKey { headers.add("Authorization", "Bearer " + key) }
        request = HTTPRequest(method: "POST", target: target.url.target, headers: headers, body: body)
    }

    /// Runs the attempt; a cancelled one returns what arrived so far with `cancelled` set.
    func run() throws(UpstreamFailure) -> UpstreamStreamResult {
        let timeouts = target.timeouts
        let own = clock.now + .milliseconds(timeouts.totalMilliseconds)
        let total = deadline.map { min($0, own) } ?? own
        var connection: HTTPClientConnection?
        defer { connection?.close() }
        do throws(UpstreamFailure) {
            if isCancelled() { throw UpstreamFailure(kind: .cancelled, message: "") }
            let connectFor = min(.milliseconds(timeouts.connectMilliseconds), total - clock.now)
            do {
                connection = try HTTPClientConnection(host: target.url.host, port: target.url.port, timeout: connectFor)
            } catch {
                throw error.code == .timeout
                    ? UpstreamFailure(kind: .timeout, message: "connecting took longer than \(timeouts.connectMilliseconds) ms")
                    : Self.classify(error, doing: "connecting")
            }
            guard let connection else { throw UpstreamFailure(kind: .connection, message: "no connection") }
            let firstEvent = min(total, clock.now + .milliseconds(timeouts.firstByteMilliseconds))
            do { try connection.write(request, timeout: firstEvent - clock.now) } catch { throw Self.classify(error, doing: "sending the request") }
            let stream = try sliced(until: firstEvent, total: total, waiting: "for the response head") { wait throws(HTTPServerError) in
                try connection.readResponseHead(method: "POST", timeout: wait, maxResponseBytes: Self.maxResponseBytes)
            }
            guard stream.status == 200 else { throw statusFailure(stream, total: total) }
            try readEvents(stream, firstEvent: firstEvent, total: total)
        } catch {
            if error.kind == .timeout, let deadline, clock.now >= deadline {
                throw UpstreamFailure(kind: .deadline, message: "the request's deadline passed (\(error.message))")
            }
            guard error.kind == .cancelled else { throw error }
            result.cancelled = true
        }
        return result
    }

    /// The event stream up to `[DONE]` (or the end of the body after a finish_reason).
    private func readEvents(_ stream: HTTPResponseStream, firstEvent: ContinuousClock.Instant,
                            total: ContinuousClock.Instant) throws(UpstreamFailure) {
        let type = (stream.headers["content-type"] ?? "").lowercased()
        guard type.hasPrefix("text/event-stream") || type.hasPrefix("application/json") else {
            throw UpstreamFailure(kind: .malformed, message: "HTTP 200 with content-type \"\(type.prefix(80))\", not an event stream")
        }
        // A server that ignored `stream: true` answers one JSON object; read as one chunk.
        var decoder = ServerSentEventDecoder()
        var whole: [UInt8]? = type.hasPrefix("application/json") ? [] : nil
        var sawEvent = false
        var lastByte = clock.now
        let idle = Duration.milliseconds(target.timeouts.idleMilliseconds)
        while true {
            let piece: [UInt8]?
            do throws(UpstreamFailure) {
                piece = try sliced(until: sawEvent ? lastByte + idle : firstEvent, total: total,
                                   waiting: sawEvent ? "between chunks" : "for the first event") { wait throws(HTTPServerError) in
                    try stream.next(timeout: wait)
                }
            } catch {
                // The answer is complete once the finish reason came: a server that then stalls
                // instead of sending usage and [DONE] costs an idle wait, not the answer.
                if error.kind == .timeout && result.finishReason != nil { return }
                throw error
            }
            guard let piece else {
                if let body = whole { return try take(String(decoding: body, as: UTF8.self)) }
                if result.finishReason != nil { return }
                throw UpstreamFailure(kind: .connection, message: "the upstream ended the stream before it finished (no [DONE])")
            }
            lastByte = clock.now
            if whole != nil { whole?.append(contentsOf: piece); continue }
            for event in decoder.feed(piece) {
                sawEvent = true
                if event.data == "[DONE]" { return }
                try take(event.data)
            }
        }
    }

    /// Applies one chunk: text to `onText`, the finish reason, the usage.
    private func take(_ data: String) throws(UpstreamFailure) {
        guard let chunk = UpstreamWire.chunk(data) else {
            throw UpstreamFailure(kind: .malformed, message: "not a chat completion chunk: \(String(data.prefix(120)))")
        }
        if let error = chunk.error { throw UpstreamFailure(kind: .streamError, message: "error event: \(error)") }
        if let text = chunk.content, !text.isEmpty {
            result.text += text
            textSent = true
            onText(text)
        }
        if let reason = chunk.finishReason { result.finishReason = reason }
        if let usage = chunk.usage { result.usage = usage }
    }

    /// A non-200 answer: its message (from an OpenAI error body when there is one) and Retry-After.
    private func statusFailure(_ stream: HTTPResponseStream, total: ContinuousClock.Instant) -> UpstreamFailure {
        var body: [UInt8] = []
        let until = min(total, clock.now + .milliseconds(target.timeouts.idleMilliseconds))
        while body.count < Self.maxErrorBody,
              let piece = try? sliced(until: until, total: total, waiting: "for the error body", { wait throws(HTTPServerError) in
                  try stream.next(timeout: wait)
              }) {
            body += piece
        }
        return UpstreamFailure(kind: .status, message: "HTTP \(stream.status): \(UpstreamWire.errorMessage(body))",
                               status: stream.status, retryAfterMilliseconds: UpstreamBackoff.retryAfter(stream.headers))
    }

    /// Calls `read` with waits of at most `pollSlice` until it returns, polling `isCancelled`
    /// between; past `deadline` (or `total`) it is a timeout.
    private func sliced<T>(until deadline: ContinuousClock.Instant, total: ContinuousClock.Instant, waiting: String,
                           _ read: (Duration) throws(HTTPServerError) -> T) throws(UpstreamFailure) -> T {
        let end = min(deadline, total)
        while true {
            if isCancelled() { throw UpstreamFailure(kind: .cancelled, message: "") }
            let left = end - clock.now
            if left <= .zero {
                let limit = end == total ? "the attempt's total of \(target.timeouts.totalMilliseconds) ms"
                    : waiting == "between chunks" ? "idleMs \(target.timeouts.idleMilliseconds)"
                    : "firstByteMs \(target.timeouts.firstByteMilliseconds)"
                throw UpstreamFailure(kind: .timeout, message: "timed out waiting \(waiting) (\(limit))")
            }
            do {
                return try read(min(left, Self.pollSlice))
            } catch where error.code == .timeout {
                continue
            } catch {
                throw Self.classify(error, doing: "reading the response")
            }
        }
    }

    static func classify(_ error: HTTPServerError, doing: String) -> UpstreamFailure {
        switch error.code {
        case .timeout: return UpstreamFailure(kind: .timeout, message: "\(doing) timed out")
        case .malformedResponse, .responseTooLarge: return UpstreamFailure(kind: .malformed, message: "\(doing): \(error.message)")
        default: return UpstreamFailure(kind: .connection, message: "\(doing): \(error.message)")
        }
    }
}
