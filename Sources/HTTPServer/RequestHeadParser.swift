/// A request the server refuses: the status to answer with, and why (the response body).
struct HTTPRejection: Error, Sendable, Equatable {
    var status: Int
    var reason: String
    init(_ status: Int, _ reason: String) { self.status = status; self.reason = reason }
}

/// The parsed start line and header section of a request.
struct RequestHead {
    var method: String
    var target: String
    var minorVersion: Int
    var headers: HTTPHeaders
}

/// Byte classes of RFC 9110 §5.6.2 (tokens) and §5.5 (field values).
enum HTTPBytes {
    static let cr: UInt8 = 13, lf: UInt8 = 10, space: UInt8 = 32, tab: UInt8 = 9, colon: UInt8 = 58

    /// tchar: the characters of methods, header names and transfer-coding names.
    private static let tokenTable: [Bool] = (0..<256).map { byte in
        if byte >= 0x30 && byte <= 0x39 || byte >= 0x41 && byte <= 0x5A || byte >= 0x61 && byte <= 0x7A { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
    }

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    /// Field-value characters: visible ASCII, space, tab and obs-text; never CR, LF, NUL or DEL.
    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// Request-target characters: visible ASCII only (no spaces, controls or raw non-ASCII).
    @inline(__always) static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// The index of the first CRLF CRLF at or after `from`, or nil.
    static func headerEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = max(from, 0)
        let count = bytes.count
        while index + 3 < count {
            if bytes[index + 3] != lf { index += bytes[index + 3] == cr ? 1 : 4; continue }
            if bytes[index] == cr && bytes[index + 1] == lf && bytes[index + 2] == cr { return index }
            index += 1
        }
        return nil
    }

    /// Whether an LF not preceded by CR occurs at or after `from` (which must be at least 1).
    static func hasBareLF(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Bool {
        var index = max(from, 1)
        while index < bytes.count {
            if bytes[index] == lf && bytes[index - 1] != cr { return true }
            index += 1
        }
        return false
    }

    /// The index of the first CRLF at or after `from`, or nil.
    static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = from
        while index + 1 < bytes.count {
            if bytes[index] == cr && bytes[index + 1] == lf { return index }
            index += 1
        }
        return nil
    }
}

/// Parses one request head: start line and header fields, each line ending in CRLF (RFC 9112 §2-5).
/// `bytes` holds the head up to and excluding the final blank line's CRLF.
enum RequestHeadParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPServer.Limits) throws(HTTPRejection) -> RequestHead {
        let lineEnd = HTTPBytes.lineEnd(bytes, from: 0) ?? bytes.count
        if lineEnd > limits.maxRequestLineBytes { throw HTTPRejection(414, "request line too long") }
        var head = try parseRequestLine(UnsafeBufferPointer(rebasing: bytes[0..<lineEnd]), limits: limits)
        if lineEnd < bytes.count {
            head.headers = try parseFields(UnsafeBufferPointer(rebasing: bytes[(lineEnd + 2)...]), maxCount: limits.maxHeaderCount)
        }
        return head
    }

    /// `method SP request-target SP HTTP-version`.
    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>, limits: HTTPServer.Limits) throws(HTTPRejection) -> RequestHead {
        var index = 0
        while index < line.count, HTTPBytes.isToken(line[index]) { index += 1 }
        guard index > 0, index < line.count, line[index] == HTTPBytes.space else { throw HTTPRejection(400, "malformed request line") }
        let method = String(decoding: UnsafeBufferPointer(rebasing: line[0..<index]), as: UTF8.self)
        let targetStart = index + 1
        index = targetStart
        while index < line.count, HTTPBytes.isTargetByte(line[index]) { index += 1 }
        guard index > targetStart, index < line.count, line[index] == HTTPBytes.space else {
            throw HTTPRejection(400, "malformed request target")
        }
        if index - targetStart > limits.maxTargetBytes { throw HTTPRejection(414, "request target too long") }
        let target = String(decoding: UnsafeBufferPointer(rebasing: line[targetStart..<index]), as: UTF8.self)
        let minor = try parseVersion(UnsafeBufferPointer(rebasing: line[(index + 1)...]))
        return RequestHead(method: method, target: target, minorVersion: minor, headers: HTTPHeaders())
    }

    /// `HTTP/1.0` or `HTTP/1.1`; another well-formed version is 505, anything else 400.
    static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPRejection) -> Int {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, bytes.starts(with: prefix), bytes[6] == 0x2E,
              (0x30...0x39).contains(bytes[5]), (0x30...0x39).contains(bytes[7]) else {
            throw HTTPRejection(400, "malformed HTTP version")
        }
        guard bytes[5] == 0x31, bytes[7] == 0x30 || bytes[7] == 0x31 else {
            throw HTTPRejection(505, "HTTP version not supported")
        }
        return Int(bytes[7] - 0x30)
    }

    /// Header field lines `name: value`, separated by CRLF. No obs-fold, no space before the colon.
    static func parseFields(_ bytes: UnsafeBufferPointer<UInt8>, maxCount: Int) throws(HTTPRejection) -> HTTPHeaders {
        var fields: [(name: String, value: String)] = []
        var start = 0
        while start < bytes.count {
            let end = HTTPBytes.lineEnd(bytes, from: start) ?? bytes.count
            if fields.count >= maxCount { throw HTTPRejection(431, "too many header fields") }
            fields.append(try parseField(UnsafeBufferPointer(rebasing: bytes[start..<end])))
            start = end + 2
        }
        return HTTPHeaders(fields)
    }

    static func parseField(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPRejection) -> (name: String, value: String) {
        var index = 0
        while index < line.count, HTTPBytes.isToken(line[index]) { index += 1 }
        guard index > 0, index < line.count, line[index] == HTTPBytes.colon else {
            throw HTTPRejection(400, "malformed header field")
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[0..<index]), as: UTF8.self)
        var valueStart = index + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == HTTPBytes.space || line[valueStart] == HTTPBytes.tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == HTTPBytes.space || line[valueEnd - 1] == HTTPBytes.tab { valueEnd -= 1 }
        for position in valueStart..<valueEnd where !HTTPBytes.isFieldValue(line[position]) {
            throw HTTPRejection(400, "invalid character in header field value")
        }
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self)
        return (name, value)
    }
}
