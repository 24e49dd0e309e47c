/// Serializes response heads and chunks. Fields whose name is not a token or whose value holds CR,
/// LF or NUL are dropped (never written: response splitting), as are framing fields the server
/// owns (Content-Length, Transfer-Encoding, Connection).
enum ResponseEncoder {
    enum Framing { case length(Int), chunked, untilClose }

    /// `keepAlive` adds `Connection: keep-alive` (HTTP/1.0 peers close by default without it).
    static func head(status: Int, headers: HTTPHeaders, framing: Framing, close: Bool, keepAlive: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + headers.fields.count * 48)
        appendStatusLine(&out, status: status)
        for field in headers where isWritable(field) {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: [HTTPBytes.colon, HTTPBytes.space])
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: crlf)
        }
        switch framing {
        case .length(let count):
            if status >= 200 && status != 204 && status != 304 {
                out.append(contentsOf: "Content-Length: ".utf8)
                appendDecimal(&out, count)
                out.append(contentsOf: crlf)
            }
        case .chunked: out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .untilClose: break
        }
        if close { out.append(contentsOf: "Connection: close\r\n".utf8) } else if keepAlive { out.append(contentsOf: "Connection: keep-alive\r\n".utf8) }
        out.append(contentsOf: crlf)
        return out
    }

    static let crlf: [UInt8] = [HTTPBytes.cr, HTTPBytes.lf]
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends one chunk (`hex-size CRLF data CRLF`) to `out`.
    static func appendChunk(_ out: inout [UInt8], _ data: [UInt8]) {
        appendHex(&out, data.count)
        out.append(contentsOf: crlf)
        out.append(contentsOf: data)
        out.append(contentsOf: crlf)
    }

    /// A complete error response with a plain-text body, closing the connection.
    static func errorResponse(_ rejection: HTTPRejection) -> [UInt8] {
        let body = Array((rejection.reason + "\n").utf8)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        return head(status: rejection.status, headers: headers, framing: .length(body.count), close: true) + body
    }

    private static func isWritable(_ field: (name: String, value: String)) -> Bool {
        guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTPBytes.isToken),
              field.value.utf8.allSatisfy(HTTPBytes.isFieldValue) else { return false }
        switch field.name.lowercased() {
        case "content-length", "transfer-encoding", "connection": return false
        default: return true
        }
    }

    private static func appendStatusLine(_ out: inout [UInt8], status: Int) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        let code = (100...999).contains(status) ? status : 500
        appendDecimal(&out, code)
        out.append(HTTPBytes.space)
        out.append(contentsOf: reasonPhrase(code).utf8)
        out.append(contentsOf: crlf)
    }

    static func appendDecimal(_ out: inout [UInt8], _ value: Int) {
        if value >= 10 { appendDecimal(&out, value / 10) }
        out.append(UInt8(0x30 + value % 10))
    }

    static func appendHex(_ out: inout [UInt8], _ value: Int) {
        if value >= 16 { appendHex(&out, value / 16) }
        let digit = value % 16
        out.append(UInt8(digit < 10 ? 0x30 + digit : 0x61 + digit - 10))
    }

    /// The reason phrase of a status code (RFC 9110 §15), "Status" for unknown codes.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
