import Foundation
import Glibc
import HostOS
import Testing
@testable import HTTPServer

/// A peer that accepts one connection, reads one request head, answers with fixed bytes, then
/// closes (or holds the connection open when `hold`).
final class ScriptedPeer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32

    init(_ response: String, hold: Bool = false) throws {
        let (listener, port) = try HTTPServer.listenLoopback()
        self.fd = listener.rawValue
        self.port = port
        let fd = self.fd
        let bytes = Array(response.utf8)
        Thread.detachNewThread {
            // The thread owns the listener: closing it elsewhere could race with this accept
            // landing on a reused descriptor number.
            let connection = accept(fd, nil, nil)
            close(fd)
            guard connection >= 0 else { return }
            var received: [UInt8] = []
            var byte: UInt8 = 0
            while !received.reversed().starts(with: [10, 13, 10, 13]), recv(connection, &byte, 1, 0) == 1 { received.append(byte) }
            _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if hold { Thread.sleep(forTimeInterval: 5) }
            close(connection)
        }
    }

    func fetch(timeout: Duration = .seconds(10), maxBytes: Int = 1 << 20) throws(HTTPServerError) -> HTTPResponse {
        try HTTPClient.fetch(HTTPURL(host: "127.0.0.1", port: port), timeout: timeout, maxResponseBytes: maxBytes)
    }
}

@Suite struct HTTPClientTests {
    @Test func chunkedResponseWithExtensionsAndTrailers() throws {
        let peer = try ScriptedPeer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n")
        #expect(try peer.fetch().text == "abcde")
    }

    @Test func closeDelimitedResponse() throws {
        let peer = try ScriptedPeer("HTTP/1.0 200 OK\r\n\r\nuntil the end")
        #expect(try peer.fetch().text == "until the end")
    }

    @Test func interimResponsesAreSkipped() throws {
        let peer = try ScriptedPeer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        let response = try peer.fetch()
        #expect(response.status == 201)
        #expect(response.text == "ok")
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        let name: String
        let response: String
        let code: HTTPServerError.Code
        var testDescription: String { name }
    }

    static let failures: [Failure] = [
        Failure(name: "garbage status line", response: "HTCPCP/1.0 418 teapot\r\n\r\n", code: .malformedResponse),
        Failure(name: "status not a number", response: "HTTP/1.1 2x0 OK\r\n\r\n", code: .malformedResponse),
        Failure(name: "conflicting lengths", response: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", code: .malformedResponse),
        Failure(name: "negative length", response: "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", code: .malformedResponse),
        Failure(name: "bad chunk", response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", code: .malformedResponse),
        Failure(name: "truncated body", response: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", code: .connectionClosed),
        Failure(name: "no response", response: "", code: .connectionClosed),
        Failure(name: "length over the limit", response: "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n", code: .responseTooLarge),
        Failure(name: "chunks over the limit", response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n", code: .responseTooLarge),
    ]

    @Test(arguments: failures) func malformedResponsesAreErrors(_ failure: Failure) throws {
        let peer = try ScriptedPeer(failure.response)
        let error = #expect(throws: HTTPServerError.self) { try peer.fetch() }
        #expect(error?.code == failure.code, "\(String(describing: error))")
    }

    @Test func aSilentServerTimesOut() throws {
        let peer = try ScriptedPeer("", hold: true)
        let error = #expect(throws: HTTPServerError.self) { try peer.fetch(timeout: .milliseconds(200)) }
        #expect(error?.code == .timeout)
    }

    @Test func closeDelimitedOverTheLimit() throws {
        let peer = try ScriptedPeer("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 5000))
        let error = #expect(throws: HTTPServerError.self) { try peer.fetch(maxBytes: 1000) }
        #expect(error?.code == .responseTooLarge)
    }

    struct URLCase: Sendable, CustomTestStringConvertible {
        let text: String
        let expected: HTTPURL?
        var testDescription: String { text }
    }

    static let urls: [URLCase] = [
        URLCase(text: "http://example.com", expected: HTTPURL(host: "example.com", port: 80, target: "/")),
        URLCase(text: "HTTP://Example.com:8080/a/b?c=d#frag", expected: HTTPURL(host: "Example.com", port: 8080, target: "/a/b?c=d")),
        URLCase(text: "http://127.0.0.1:9/x", expected: HTTPURL(host: "127.0.0.1", port: 9, target: "/x")),
        URLCase(text: "http://[::1]:8000/v1", expected: HTTPURL(host: "::1", port: 8000, target: "/v1")),
        URLCase(text: "http://h?q=1", expected: HTTPURL(host: "h", port: 80, target: "/?q=1")),
        URLCase(text: "https://example.com/", expected: nil),
        URLCase(text: "ftp://example.com/", expected: nil),
        URLCase(text: "example.com/path", expected: nil),
        URLCase(text: "http://user:pw@example.com/", expected: nil),
        URLCase(text: "http://example.com:0/", expected: nil),
        URLCase(text: "http://example.com:65536/", expected: nil),
        URLCase(text: "http://example.com:/", expected: nil),
        URLCase(text: "http:///path", expected: nil),
        URLCase(text: "http://exa mple.com/", expected: nil),
        URLCase(text: "http://example.com/a b", expected: nil),
        URLCase(text: "http://[::1/", expected: nil),
        URLCase(text: "http://[zz]/", expected: nil),
    ]

    @Test(arguments: urls) func urlParsing(_ url: URLCase) throws {
        if let expected = url.expected {
            #expect(try HTTPURL(parsing: url.text) == expected)
        } else {
            let error = #expect(throws: HTTPServerError.self) { try HTTPURL(parsing: url.text) }
            #expect(error?.code == .invalidURL)
        }
    }

    @Test func httpsErrorSaysThereIsNoTLS() {
        let error = #expect(throws: HTTPServerError.self) { try HTTPURL(parsing: "https://api.example.com/v1") }
        #expect(error?.message.contains("no TLS") == true)
    }

    @Test func hostHeaderBracketsIPv6() {
        #expect(HTTPURL(host: "::1", port: 8080).hostHeader == "[::1]:8080")
        #expect(HTTPURL(host: "example.com").hostHeader == "example.com")
    }

    @Test func addressFilterSeesResolvedAddresses() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let url = try HTTPURL(parsing: "http://localhost:\(fixture.port)/echo")
        let refused = #expect(throws: HTTPServerError.self) {
            try HTTPClient.fetch(url, allowAddress: { !$0.hasPrefix("127.") && $0 != "::1" })
        }
        #expect(refused?.code == .addressNotAllowed)
        #expect(refused?.message.contains("localhost") == true)
        #expect(try HTTPClient.fetch(url, allowAddress: { $0 == "127.0.0.1" }).status == 200)
    }

    @Test func connectingToAClosedPortFails() throws {
        let (fd, port) = try HTTPServer.listenLoopback()
        try fd.close()
        let error = #expect(throws: HTTPServerError.self) { try HTTPClientConnection(host: "127.0.0.1", port: port) }
        #expect(error?.code == .system)
    }
}

/// A listening socket on [::1] made by hand (as the broker's come from elsewhere), or nil when the
/// machine has no IPv6 loopback.
func listenIPv6Loopback() -> (Int32, UInt16)? {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound, listen(fd, 16) == 0 else { close(fd); return nil }
    return (fd, UInt16(bigEndian: address.sin6_port))
}

@Suite struct HTTPClientIPv6Tests {
    static let available: Bool = {
        guard let (fd, _) = listenIPv6Loopback() else { return false }
        close(fd)
        return true
    }()

    @Test(.enabled(if: available, "no IPv6 loopback on this machine"))
    func clientAndServerOverIPv6() throws {
        let handler = TestHandler()
        let server = HTTPServer(handler: handler)
        defer { server.stop() }
        let (fd, port) = try #require(listenIPv6Loopback())
        try server.addListener(FileDescriptor(rawValue: fd), tag: 6)
        try server.start()
        let response = try HTTPClient.fetch(try HTTPURL(parsing: "http://[::1]:\(port)/echo"), method: "POST", body: [6])
        #expect(response.body == [6])
        #expect(response.headers["x-listener"] == "6")
    }
}
