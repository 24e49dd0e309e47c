/// How a request's body is delimited and what the connection does afterwards (RFC 9112 §6, §9.3).
struct RequestFraming {
    enum Body: Equatable { case none, length(Int), chunked }
    var body: Body
    var keepAlive: Bool
    var expectContinue: Bool

    /// Decides the framing from the head. Never trusts a length: a sign, a non-digit, overflow,
    /// differing duplicates, or Content-Length together with Transfer-Encoding are all 400.
    static func decide(_ head: RequestHead, maxBody: Int) throws(HTTPRejection) -> RequestFraming {
        var lengths: [Substring] = []
        var codings: [Substring] = []
        var hosts = 0
        var connection: [Substring] = []
        var expect: String?
        for field in head.headers {
            let name = field.name
            if nameIs(name, "content-length") { lengths += listItems(field.value) }
            else if nameIs(name, "transfer-encoding") { codings += listItems(field.value) }
            else if nameIs(name, "host") { hosts += 1 }
            else if nameIs(name, "connection") { connection += listItems(field.value) }
            else if nameIs(name, "expect") { expect = field.value }
        }
        if head.minorVersion == 1 && hosts != 1 { throw HTTPRejection(400, hosts == 0 ? "missing Host header" : "duplicate Host header") }
        let body = try bodyFraming(lengths: lengths, codings: codings, minorVersion: head.minorVersion, maxBody: maxBody)
        let tokens = Set(connection.map { $0.lowercased() })
        let keepAlive = head.minorVersion == 1 ? !tokens.contains("close") : tokens.contains("keep-alive") && !tokens.contains("close")
        var expectContinue = false
        if let expect {
            guard expect.lowercased() == "100-continue" else { throw HTTPRejection(417, "unsupported expectation") }
            expectContinue = head.minorVersion == 1 && body != .none
        }
        return RequestFraming(body: body, keepAlive: keepAlive, expectContinue: expectContinue)
    }

    private static func bodyFraming(lengths: [Substring], codings: [Substring], minorVersion: Int, maxBody: Int) throws(HTTPRejection) -> Body {
        if !codings.isEmpty {
            if !lengths.isEmpty { throw HTTPRejection(400, "both Content-Length and Transfer-Encoding") }
            if minorVersion == 0 { throw HTTPRejection(400, "Transfer-Encoding in an HTTP/1.0 request") }
            if let unknown = codings.first(where: { $0.lowercased() != "chunked" }) {
                throw HTTPRejection(501, "transfer coding '\(unknown.prefix(64))' not implemented")
            }
            if codings.count != 1 { throw HTTPRejection(400, "chunked applied more than once") }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }) else { throw HTTPRejection(400, "conflicting Content-Length values") }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw HTTPRejection(400, "malformed Content-Length")
        }
        let significant = first.drop { $0 == "0" }
        guard significant.count <= 18, let length = Int(significant.isEmpty ? "0" : significant) else {
            throw HTTPRejection(400, "Content-Length overflows")
        }
        if length > maxBody { throw HTTPRejection(413, "request body too large") }
        return length == 0 ? .none : .length(length)
    }

    /// Whether the token `name` equals `lower` (lowercase letters and '-') ignoring case, without
    /// allocating a lowercased copy on the per-request path.
    @inline(__always) static func nameIs(_ name: String, _ lower: StaticString) -> Bool {
        guard name.utf8.count == lower.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in name.utf8 {
            if byte | 0x20 != lower.utf8Start[index] { return false }
            index += 1
        }
        return true
    }

    /// The members of a comma-separated list field (RFC 9110 §5.6.1), trimmed, empty ones dropped.
    static func listItems(_ value: String) -> [Substring] {
        value.split(separator: ",").compactMap { item in
            let trimmed = item.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
            return trimmed.isEmpty ? nil : Substring(String(trimmed.reversed()))
        }
    }
}
