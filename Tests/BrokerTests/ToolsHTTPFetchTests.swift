import Foundation
import Testing
@testable import Broker
import HTTPServer
import Specs

/// http.fetch against a real loopback HTTPServer: allowed hosts work; other hosts, schemes,
/// redirects elsewhere, names that resolve inward, oversized bodies and reserved headers do not.
@Suite struct ToolsHTTPFetchTests {
    struct Site: HTTPHandler {
        func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
            var headers = HTTPHeaders()
            switch request.path {
            case "/hello": responder.respond(HTTPResponse(status: 200, body: Array("hi".utf8)))
            case "/echo":
                let echoed = "\(request.method) host=\(request.headers["host"] ?? "-") x=\(request.headers["x-test"] ?? "-") body=\(String(decoding: request.body, as: UTF8.self))"
                responder.respond(HTTPResponse(status: 200, body: Array(echoed.utf8)))
            case "/same": headers.add("Location", "/hello"); responder.respond(HTTPResponse(status: 302, headers: headers))
            case "/away":
                headers.add("Location", "http://127.0.0.2:\(request.headers["host"]?.split(separator: ":").last ?? "80")/hello")
                responder.respond(HTTPResponse(status: 302, headers: headers))
            case "/loop": headers.add("Location", "/loop"); responder.respond(HTTPResponse(status: 302, headers: headers))
            case "/big": responder.respond(HTTPResponse(status: 200, body: [UInt8](repeating: 65, count: 100_000)))
            default: responder.respond(HTTPResponse(status: 404, body: Array("nope".utf8)))
            }
        }
    }

    final class Server {
        let server = HTTPServer(handler: Site())
        let port: UInt16
        init() throws {
            let (fd, port) = try HTTPServer.listenLoopback()
            self.port = port
            try server.addListener(fd, tag: 1)
            try server.start()
        }
        deinit { server.stop() }
    }

    static func fetch(_ url: String, rule: ToolRule, method: String? = nil, body: String? = nil,
                      headers: JSONObject? = nil) -> ToolResult {
        var arguments: JSONObject = ["url": .string(url)]
        if let method { arguments["method"] = .string(method) }
        if let body { arguments["body"] = .string(body) }
        if let headers { arguments["headers"] = .object(headers) }
        return HTTPFetchTool().call(arguments, rule: rule)
    }

    @Test func allowedHostsAreFetched() throws {
        let site = try Server()
        let rule = ToolRule(name: "http.fetch", hosts: ["127.0.0.1:\(site.port)"])
        let hello = Self.fetch("http://127.0.0.1:\(site.port)/hello", rule: rule)
        #expect(!hello.isError && hello.structured?["body"] == .string("hi") && hello.structured?["status"] == .number(JSONNumber(200)))
        let echo = Self.fetch("http://127.0.0.1:\(site.port)/echo", rule: rule, method: "POST", body: "data", headers: ["X-Test": .string("1")])
        #expect(echo.structured?["body"] == .string("POST host=127.0.0.1:\(site.port) x=1 body=data"), "\(echo.text)")
        let followed = Self.fetch("http://127.0.0.1:\(site.port)/same", rule: rule)
        #expect(followed.structured?["body"] == .string("hi"), "\(followed.text)")
        let missing = Self.fetch("http://127.0.0.1:\(site.port)/missing", rule: rule)
        #expect(missing.isError && !missing.denied && missing.structured?["status"] == .number(JSONNumber(404)))
    }

    @Test func everythingElseIsRefused() throws {
        let site = try Server()
        let port = site.port
        let rule = ToolRule(name: "http.fetch", hosts: ["127.0.0.1:\(port)"], methods: ["GET"], maxBytes: 1024)
        let refused: [(String, ToolResult)] = [
            ("other port", Self.fetch("http://127.0.0.1:\(port &+ 1)/hello", rule: rule)),
            ("other name for it", Self.fetch("http://localhost:\(port)/hello", rule: rule)),
            ("https", Self.fetch("https://127.0.0.1:\(port)/hello", rule: rule)),
            ("file", Self.fetch("file:///etc/passwd", rule: rule)),
            ("gopher", Self.fetch("gopher://127.0.0.1:\(port)/", rule: rule)),
            ("credentials", Self.fetch("http://user:pw@127.0.0.1:\(port)/hello", rule: rule)),
            ("redirect elsewhere", Self.fetch("http://127.0.0.1:\(port)/away", rule: rule)),
            ("redirect loop", Self.fetch("http://127.0.0.1:\(port)/loop", rule: rule)),
            ("too big", Self.fetch("http://127.0.0.1:\(port)/big", rule: rule)),
            ("method", Self.fetch("http://127.0.0.1:\(port)/echo", rule: rule, method: "POST", body: "x")),
            ("host header", Self.fetch("http://127.0.0.1:\(port)/hello", rule: rule, headers: ["Host": .string("evil")])),
            ("header injection", Self.fetch("http://127.0.0.1:\(port)/hello", rule: rule, headers: ["X-A": .string("a\r\nX-B: b")])),
        ]
        for (name, result) in refused {
            #expect(result.isError, "\(name): \(result.text)")
            #expect(result.structured?["body"] != .string("hi"), "\(name): \(result.text)")
        }
        #expect(refused[0].1.denied && refused[6].1.denied && refused[6].1.text.contains("127.0.0.2"))
        let nowhere = Self.fetch("http://127.0.0.1:\(port)/hello", rule: ToolRule(name: "http.fetch"))
        #expect(nowhere.denied && nowhere.text.contains("no host"))
    }

    /// A DNS name the policy allows may not lead to an internal address (here a name /etc/hosts
    /// maps to loopback: the same trick as DNS rebinding).
    @Test func namesThatResolveInwardAreRefused() throws {
        let site = try Server()
        let hosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
        let names = hosts.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0].hasPrefix("127."), !fields[1].hasPrefix("localhost"), !fields[1].contains(":") else { return nil }
            return String(fields[1])
        }
        guard let name = names.first else { return }  // no such alias on this host: nothing to show
        let rule = ToolRule(name: "http.fetch", hosts: ["\(name):\(site.port)"])
        let result = Self.fetch("http://\(name):\(site.port)/hello", rule: rule)
        #expect(result.denied && result.text.contains("internal address"), "\(result.text)")
    }
}
