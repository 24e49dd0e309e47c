/// An `http://host[:port]/path?query` URL, split for the client. Other schemes are refused (there
/// is no TLS here), as are credentials in the authority and fragments' leftovers are dropped.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address, IPv6 literals without brackets.
    public var host: String
    public var port: UInt16
    /// Path and query, as sent in the request line (`/` when the URL has no path).
    public var target: String

    public init(host: String, port: UInt16 = 80, target: String = "/") {
        self.host = host; self.port = port; self.target = target
    }

    /// Parses `text`; throws `.invalidURL` with the reason.
    public init(parsing text: String) throws(HTTPServerError) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw Self.invalid(text, "no scheme (expected http://)")
        }
        let scheme = text[..<colon].lowercased()
        if scheme == "https" { throw Self.invalid(text, "https is not supported: this client has no TLS; use http://") }
        guard scheme == "http" else { throw Self.invalid(text, "scheme '\(scheme.prefix(32))' is not supported; only http://") }
        var rest = text[text.index(colon, offsetBy: 3)...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.first == "?" { target = "/" + target }
        guard target.utf8.allSatisfy(HTTPBytes.isTargetByte) else { throw Self.invalid(text, "the path has spaces or control characters") }
        if authority.contains("@") { throw Self.invalid(text, "credentials in the URL are not supported") }
        (host, port) = try Self.splitAuthority(authority, url: text)
        self.target = target
    }

    private static func splitAuthority(_ authority: Substring, url: String) throws(HTTPServerError) -> (String, UInt16) {
        var hostPart = authority
        var portPart: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw invalid(url, "unterminated IPv6 literal") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw invalid(url, "junk after the IPv6 literal") }
                portPart = after.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw invalid(url, "malformed IPv6 literal")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw invalid(url, "malformed host")
            }
        }
        var port: UInt16 = 80
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isASCII), let value = UInt16(portPart), value > 0 else {
                throw invalid(url, "malformed port")
            }
            port = value
        }
        return (String(hostPart), port)
    }

    /// The Host header value: brackets around IPv6, the port unless it is 80.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    public var description: String { "http://\(hostHeader)\(target)" }

    private static func invalid(_ url: String, _ reason: String) -> HTTPServerError {
        HTTPServerError(.invalidURL, "invalid URL '\(url.prefix(200))': \(reason)")
    }
}
