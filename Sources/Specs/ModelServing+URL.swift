/// An upstream's base URL, checked when the configuration is read so that a URL the broker's
/// HTTP client cannot use is refused at startup rather than on the first request: `http://` only
/// (the client has no TLS), a host, an optional port, a path; no credentials, query or fragment.
public struct UpstreamURL: Sendable, Equatable {
    /// Why a URL was refused.
    public struct Problem: Error, Sendable, Equatable {
        public var reason: String
    }

    /// Host name or address (IPv6 literals without brackets).
    public var host: String
    public var port: UInt16
    /// The path without a trailing slash ("" for none): requests go to `path + "/chat/completions"`.
    public var path: String

    public init(parsing text: String) throws(Problem) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw Problem(reason: "\"\(text.prefix(200))\" is not a URL (expected http://host[:port]/path)")
        }
        let scheme = text[..<colon].lowercased()
        if scheme == "https" {
            throw Problem(reason: "https is not supported: the broker's HTTP client has no TLS; use http:// "
                          + "(for a hosted API, a TLS-terminating proxy on this host)")
        }
        guard scheme == "http" else { throw Problem(reason: "scheme \"\(scheme.prefix(32))\" is not supported; only http://") }
        let rest = text[text.index(colon, offsetBy: 3)...]
        if rest.contains("?") || rest.contains("#") { throw Problem(reason: "a base URL has no query or fragment") }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if authority.contains("@") { throw Problem(reason: "credentials in the URL are not supported; use apiKeyEnv") }
        var path = String(rest[authorityEnd...])
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Problem(reason: "the path has spaces, control or non-ASCII characters (percent-encode them)")
        }
        while path.hasSuffix("/") { path.removeLast() }
        (host, port) = try Self.splitAuthority(authority)
        self.path = path
    }

    private static func splitAuthority(_ authority: Substring) throws(Problem) -> (String, UInt16) {
        var hostPart = authority
        var portPart: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw Problem(reason: "unterminated IPv6 literal") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw Problem(reason: "junk after the IPv6 literal") }
                portPart = after.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw Problem(reason: "malformed IPv6 literal")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            }
            guard !hostPart.isEmpty, hostPart.utf8.count <= 253,
                  hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw Problem(reason: hostPart.isEmpty ? "the URL has no host" : "malformed host \"\(hostPart.prefix(64))\"")
            }
        }
        var port: UInt16 = 80
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt16(portPart), value > 0 else {
                throw Problem(reason: "malformed port \"\(portPart.prefix(16))\" (1-65535)")
            }
            port = value
        }
        return (String(hostPart), port)
    }
}
