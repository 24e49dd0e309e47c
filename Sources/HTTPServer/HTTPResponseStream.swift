/// A response whose head has arrived; `next()` returns body pieces as they come, nil at the end.
public final class HTTPResponseStream {
    public let status: Int
    public let headers: HTTPHeaders
    private let connection: HTTPClientConnection
    private let deadline: UInt64
    private let maxBytes: Int
    private var received = 0
    private var framing: Framing
    private var keepAlive: Bool
    private enum Framing { case none, length(Int), chunked(ChunkedDecoder), untilClose, finished }

    init(connection: HTTPClientConnection, method: String, deadline: UInt64, maxBytes: Int) throws(HTTPServerError) {
        self.connection = connection; self.deadline = deadline; self.maxBytes = maxBytes
        var head: (status: Int, minor: Int, headers: HTTPHeaders)
        repeat {
            head = try Self.readHead(connection, deadline: deadline)
        } while head.status >= 100 && head.status < 200 && head.status != 101
        status = head.status
        headers = head.headers
        let tokens = RequestFraming.listItems(head.headers["connection"] ?? "").map { $0.lowercased() }
        keepAlive = head.minor == 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
        framing = try Self.framing(status: head.status, method: method, headers: head.headers, maxBytes: maxBytes)
        if case .untilClose = framing { keepAlive = false }
        if case .none = framing { finish() }
    }

    /// The next piece of the body, or nil once it is complete.
    public func next() throws(HTTPServerError) -> [UInt8]? { try next(until: deadline) }

    /// The next piece of the body, waiting at most `timeout` for bytes (instead of the stream's
    /// deadline). A `.timeout` leaves the stream intact: what arrived stays buffered, and the next
    /// call continues (callers poll a cancellation flag between short waits this way).
    public func next(timeout: Duration) throws(HTTPServerError) -> [UInt8]? {
        try next(until: monotonicNanoseconds() &+ timeout.nanoseconds)
    }

    private func next(until deadline: UInt64) throws(HTTPServerError) -> [UInt8]? {
        while true {
            switch framing {
            case .none, .finished:
                return nil
            case .length(let remaining):
                if connection.start < connection.buffer.count {
                    let take = min(remaining, connection.buffer.count - connection.start)
                    let piece = Array(connection.buffer[connection.start..<(connection.start + take)])
                    connection.start += take
                    if take == remaining { finish() } else { framing = .length(remaining - take) }
                    return piece
                }
                if try !connection.fill(deadline: deadline) { throw closedEarly() }
            case .chunked(let decoder):
                if let piece = try decodeChunks(decoder) { return piece.isEmpty ? nil : piece }
                if try !connection.fill(deadline: deadline) { throw closedEarly() }
            case .untilClose:
                if connection.start < connection.buffer.count {
                    let piece = Array(connection.buffer[connection.start...])
                    connection.start = connection.buffer.count
                    received += piece.count
                    if received > maxBytes { connection.close(); throw tooLarge() }
                    return piece
                }
                if try !connection.fill(deadline: deadline) { finish(); return nil }
            }
        }
    }

    /// Decodes what the buffer holds: the data found (empty at the end of the body), or nil when
    /// more bytes are needed first.
    private func decodeChunks(_ decoder: ChunkedDecoder) throws(HTTPServerError) -> [UInt8]? {
        var decoder = decoder
        var piece: [UInt8] = []
        let consumed: Result<Int, HTTPRejection> = connection.buffer.withUnsafeBufferPointer { all in
            do throws(HTTPRejection) {
                return .success(try decoder.decode(UnsafeBufferPointer(rebasing: all[connection.start...]), into: &piece))
            } catch { return .failure(error) }
        }
        switch consumed {
        case .failure(let rejection):
            connection.close()
            throw rejection.status == 413 ? tooLarge() : HTTPServerError(.malformedResponse, "bad chunked body: \(rejection.reason)")
        case .success(let count): connection.start += count
        }
        framing = .chunked(decoder)
        if decoder.isDone { finish() }
        return !piece.isEmpty || decoder.isDone ? piece : nil
    }

    /// Reads the rest of the body into one array.
    public func readAll() throws(HTTPServerError) -> [UInt8] {
        var body: [UInt8] = []
        while let piece = try next() { body += piece }
        return body
    }

    private func finish() {
        framing = .finished
        if keepAlive { connection.isReusable = true } else { connection.close() }
    }

    private func closedEarly() -> HTTPServerError {
        connection.close()
        return HTTPServerError(.connectionClosed, "the server closed the connection before the response was complete")
    }

    private func tooLarge() -> HTTPServerError {
        HTTPServerError(.responseTooLarge, "the response is larger than \(maxBytes) bytes")
    }

    private static func framing(status: Int, method: String, headers: HTTPHeaders, maxBytes: Int) throws(HTTPServerError) -> Framing {
        if method == "HEAD" || status < 200 || status == 204 || status == 304 { return .none }
        let codings = headers.filter { $0.name.lowercased() == "transfer-encoding" }.flatMap { RequestFraming.listItems($0.value) }
        if let last = codings.last {
            return last.lowercased() == "chunked" ? .chunked(ChunkedDecoder(maxBody: maxBytes)) : .untilClose
        }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }.flatMap { RequestFraming.listItems($0.value) }
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }), first.count <= 18, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(first) else {
            throw HTTPServerError(.malformedResponse, "malformed or conflicting Content-Length in the response")
        }
        if length > maxBytes { throw HTTPServerError(.responseTooLarge, "the response is larger than \(maxBytes) bytes") }
        return length == 0 ? .none : .length(length)
    }

    /// Status line and fields, at most 64 KiB.
    private static func readHead(_ connection: HTTPClientConnection, deadline: UInt64) throws(HTTPServerError) -> (Int, Int, HTTPHeaders) {
        let maxHead = 64 * 1024
        while true {
            let found: Int? = connection.buffer.withUnsafeBufferPointer { HTTPBytes.headerEnd($0, from: connection.start) }
            if let end = found {
                let parsed: Result<(Int, Int, HTTPHeaders), HTTPServerError> = connection.buffer.withUnsafeBufferPointer { all in
                    do throws(HTTPServerError) {
                        return .success(try parseHead(UnsafeBufferPointer(rebasing: all[connection.start..<end])))
                    } catch { return .failure(error) }
                }
                connection.start = end + 4
                return try parsed.get()
            }
            if connection.buffer.count - connection.start > maxHead {
                connection.close()
                throw HTTPServerError(.malformedResponse, "response head larger than 64 KiB")
            }
            if try !connection.fill(deadline: deadline) {
                connection.close()
                throw HTTPServerError(.connectionClosed, "the server closed the connection without a response")
            }
        }
    }

    private static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPServerError) -> (Int, Int, HTTPHeaders) {
        let lineEnd = HTTPBytes.lineEnd(bytes, from: 0) ?? bytes.count
        let line = Array(UnsafeBufferPointer(rebasing: bytes[0..<lineEnd]))
        guard line.count >= 12, line.starts(with: Array("HTTP/1.".utf8)), line[7] == 0x30 || line[7] == 0x31,
              line[8] == HTTPBytes.space, let status = Int(String(decoding: line[9..<12], as: UTF8.self)),
              (100...999).contains(status), line.count == 12 || line[12] == HTTPBytes.space else {
            throw HTTPServerError(.malformedResponse, "malformed status line")
        }
        var headers = HTTPHeaders()
        if lineEnd < bytes.count {
            do throws(HTTPRejection) {
                headers = try RequestHeadParser.parseFields(UnsafeBufferPointer(rebasing: bytes[(lineEnd + 2)...]), maxCount: 1000)
            } catch { throw HTTPServerError(.malformedResponse, "malformed response header: \(error.reason)") }
        }
        return (status, Int(line[7] - 0x30), headers)
    }
}
