import Glibc

/// Name resolution for http.fetch, done once by the broker so the address checked is the address
/// connected to (no second lookup a DNS rebinding could answer differently).
enum HTTPAddressCheck {
    /// The addresses `host` resolves to, as numeric text (IPv4 dotted, IPv6 without brackets).
    static func resolve(_ host: String) -> Result<[String], Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { return .failure(Failure(message: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")) }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            if let text = numeric(info.pointee), !addresses.contains(text) { addresses.append(text) }
        }
        return addresses.isEmpty ? .failure(Failure(message: "no addresses for \(host)")) : .success(addresses)
    }

    struct Failure: Error { let message: String }

    static func numeric(_ info: addrinfo) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard let address = info.ai_addr else { return nil }
        let ok: UnsafePointer<CChar>? = switch info.ai_family {
        case AF_INET:
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                withUnsafePointer(to: pointer.pointee.sin_addr) { inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count)) }
            }
        case AF_INET6:
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafePointer(to: pointer.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count)) }
            }
        default: nil
        }
        guard ok != nil else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `address` is a literal IPv4 or IPv6 address (as opposed to a name).
    static func isLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
    /// unspecified, multicast and reserved ranges: the supervisor's own neighbourhood. A policy
    /// reaches them only by naming the address (or `localhost`) itself, never through a DNS name.
    static func isInternal(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let a = UInt32(bigEndian: v4.s_addr)
            let (first, second) = (a >> 24, (a >> 16) & 0xFF)
            return first == 0 || first == 10 || first == 127 || first >= 224 || (first == 169 && second == 254)
                || (first == 172 && (16...31).contains(second)) || (first == 192 && second == 168)
                || (first == 100 && (64...127).contains(second))
        }
        let lower = address.lowercased()
        if lower == "::1" || lower == "::" { return true }
        if lower.hasPrefix("::ffff:") { return isInternal(String(lower.dropFirst(7))) }
        return lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe8") || lower.hasPrefix("fe9")
            || lower.hasPrefix("fea") || lower.hasPrefix("feb") || lower.hasPrefix("ff")
    }
}
