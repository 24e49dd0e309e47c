import Glibc

/// One-shot requests: connect, send, read the whole response, close.
public enum HTTPClient {
    /// Fetches `url` with a total `timeout` and at most `maxResponseBytes` of body. `allowAddress`
    /// vets each address the host resolves to (numeric text) before connecting.
    public static func fetch(
        _ url: HTTPURL, method: String = "GET", headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 * 1024 * 1024,
        allowAddress: (@Sendable (String) -> Bool)? = nil
    ) throws(HTTPServerError) -> HTTPResponse {
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        let connection = try HTTPClientConnection(host: url.host, port: url.port, deadline: deadline, allowAddress: allowAddress)
        defer { connection.close() }
        var headers = headers
        if headers["connection"] == nil { headers.add("Connection", "close") }
        if headers["host"] == nil { headers.add("Host", url.hostHeader) }
        let request = HTTPRequest(method: method, target: url.target, headers: headers, body: body)
        return try connection.send(request, deadline: deadline, maxResponseBytes: maxResponseBytes)
    }
}

/// A blocking HTTP/1.1 client connection, reusable across requests while the server keeps it
/// alive. Not thread-safe: one request at a time, from one thread.
public final class HTTPClientConnection {
    let fd: Int32
    /// The Host header sent when a request has none.
    public let hostHeader: String
    var buffer: [UInt8] = []
    var start = 0
    private var scratch = [UInt8](repeating: 0, count: 16384)
    /// False once the server closed, asked to close, or a response was not read to its end.
    public internal(set) var isReusable = true
    private var closed = false

    /// Connects to `host`:`port` (a name, or an IPv4 or IPv6 literal) within `timeout`, trying only
    /// the resolved addresses `allowAddress` accepts (all when nil).
    public convenience init(host: String, port: UInt16, timeout: Duration = .seconds(10),
                            allowAddress: (@Sendable (String) -> Bool)? = nil) throws(HTTPServerError) {
        try self.init(host: host, port: port, deadline: monotonicNanoseconds() &+ timeout.nanoseconds, allowAddress: allowAddress)
    }

    init(host: String, port: UInt16, deadline: UInt64, allowAddress: (@Sendable (String) -> Bool)? = nil) throws(HTTPServerError) {
        fd = try ClientSocket.connect(host: host, port: port, deadline: deadline, allowAddress: allowAddress)
        hostHeader = HTTPURL(host: host, port: port).hostHeader
    }

    /// Connects to the unix stream socket at `path` (the supervisor's control API); requests carry
    /// `Host: localhost`.
    public init(unixSocket path: String) throws(HTTPServerError) {
        fd = try ClientSocket.connectUnix(path: path)
        hostHeader = "localhost"
    }

    deinit { close() }

    /// Closes the socket (idempotent).
    public func close() {
        if closed { return }
        closed = true
        isReusable = false
        Glibc.close(fd)
    }

    /// Sends `request` and reads the whole response within `timeout`.
    public func send(_ request: HTTPRequest, timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 * 1024 * 1024) throws(HTTPServerError) -> HTTPResponse {
        try send(request, deadline: monotonicNanoseconds() &+ timeout.nanoseconds, maxResponseBytes: maxResponseBytes)
    }

    func send(_ request: HTTPRequest, deadline: UInt64, maxResponseBytes: Int) throws(HTTPServerError) -> HTTPResponse {
        let stream = try start(request, deadline: deadline, maxResponseBytes: maxResponseBytes)
        var body: [UInt8] = []
        while let piece = try stream.next() { body += piece }
        return HTTPResponse(status: stream.status, headers: stream.headers, body: body)
    }

    /// Sends `request` and reads the response head; the body is then read piece by piece from the
    /// returned stream (as chunks or bytes arrive: for SSE and other streamed answers).
    public func stream(_ request: HTTPRequest, timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 * 1024 * 1024) throws(HTTPServerError) -> HTTPResponseStream {
        try start(request, deadline: monotonicNanoseconds() &+ timeout.nanoseconds, maxResponseBytes: maxResponseBytes)
    }

    func start(_ request: HTTPRequest, deadline: UInt64, maxResponseBytes: Int) throws(HTTPServerError) -> HTTPResponseStream {
        guard isReusable, !closed else { throw HTTPServerError(.invalidState, "the connection cannot carry another request") }
        isReusable = false
        try ClientSocket.writeAll(fd, encode(request), deadline: deadline)
        return try HTTPResponseStream(connection: self, method: request.method, deadline: deadline, maxBytes: maxResponseBytes)
    }

    /// Sends `request` within `timeout` without reading the answer; `readResponseHead` reads it.
    public func write(_ request: HTTPRequest, timeout: Duration) throws(HTTPServerError) {
        guard isReusable, !closed else { throw HTTPServerError(.invalidState, "the connection cannot carry another request") }
        isReusable = false
        try ClientSocket.writeAll(fd, encode(request), deadline: monotonicNanoseconds() &+ timeout.nanoseconds)
    }

    /// Waits at most `timeout` for the head of the response to the request sent last, and returns
    /// its body as a stream. A `.timeout` leaves what arrived of the head buffered: calling again
    /// continues (callers poll a cancellation flag between short waits this way).
    public func readResponseHead(method: String, timeout: Duration, maxResponseBytes: Int = 16 * 1024 * 1024) throws(HTTPServerError) -> HTTPResponseStream {
        try HTTPResponseStream(connection: self, method: method, deadline: monotonicNanoseconds() &+ timeout.nanoseconds, maxBytes: maxResponseBytes)
    }

    /// Sends raw bytes (tests use this for malformed requests).
    public func sendRaw(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws(HTTPServerError) {
        if closed { throw HTTPServerError(.connectionClosed, "the connection is closed") }
        try ClientSocket.writeAll(fd, bytes, deadline: monotonicNanoseconds() &+ timeout.nanoseconds)
    }

    /// Reads the next response after `sendRaw` (or a pipelined one) within `timeout`.
    public func readResponse(method: String = "GET", timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 * 1024 * 1024) throws(HTTPServerError) -> HTTPResponse {
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        let stream = try HTTPResponseStream(connection: self, method: method, deadline: deadline, maxBytes: maxResponseBytes)
        var body: [UInt8] = []
        while let piece = try stream.next() { body += piece }
        return HTTPResponse(status: stream.status, headers: stream.headers, body: body)
    }

    /// The request line, headers (Host and Content-Length added) and body.
    func encode(_ request: HTTPRequest) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.body.count)
        out += "\(request.method) \(request.target) HTTP/1.1\r\n".utf8
        if request.headers["host"] == nil { out += "Host: \(hostHeader)\r\n".utf8 }
        for field in request.headers where field.name.lowercased() != "content-length" && field.name.lowercased() != "transfer-encoding" {
            guard field.value.utf8.allSatisfy(HTTPBytes.isFieldValue), field.name.utf8.allSatisfy(HTTPBytes.isToken) else { continue }
            out += "\(field.name): \(field.value)\r\n".utf8
        }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
            out += "Content-Length: \(request.body.count)\r\n".utf8
        }
        out += ResponseEncoder.crlf
        out += request.body
        return out
    }

    /// Reads more bytes into the buffer; false at end of stream.
    func fill(deadline: UInt64) throws(HTTPServerError) -> Bool {
        // Never touch the number after close: it may already name someone else's descriptor.
        if closed { throw HTTPServerError(.connectionClosed, "the connection is closed") }
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        if start > 64 * 1024 { buffer.removeFirst(start); start = 0 }
        let result: Result<Int, HTTPServerError> = scratch.withUnsafeMutableBytes { raw in
            do throws(HTTPServerError) { return .success(try ClientSocket.read(fd, into: raw, deadline: deadline)) } catch { return .failure(error) }
        }
        let count = try result.get()
        buffer += scratch[..<count]
        return count > 0
    }
}
