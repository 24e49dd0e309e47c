import HTTPServer
import Specs

/// `http.fetch`: GET or POST done by the supervisor for the agent (which has no network), only to
/// the hosts the rule lists. The host is checked as written and again after resolution (a DNS name
/// may not lead into the supervisor's own neighbourhood), the connection goes to the checked
/// address, redirects are followed only to allowed hosts (at most 3), and body size and time are bounded.
struct HTTPFetchTool: BrokerTool {
    static let defaultLimit: UInt64 = 1 << 20
    static let defaultTimeoutMilliseconds: Int64 = 10_000
    static let maximumRedirects = 3
    /// Headers the broker owns: framing and routing are not the agent's to set.
    static let reservedHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "upgrade", "te",
                                               "trailer", "keep-alive", "proxy-authorization", "proxy-connection"]

    let descriptor = ToolDescriptor(
        name: "http.fetch", description: "Fetch an http:// URL (GET or POST) from an allowed host; returns status, headers and body.",
        inputSchema: HTTPFetchTool.schemaJSON, annotations: ToolDescriptor.hints(readOnly: false, openWorld: true))
    let schema = ToolArguments.schema(HTTPFetchTool.schemaText)

    static let schemaText = #"""
    {"type": "object", "additionalProperties": false, "required": ["url"],
     "properties": {"url": {"type": "string", "minLength": 8, "maxLength": 8192},
                    "method": {"enum": ["GET", "POST"]},
                    "headers": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 8192}},
                    "body": {"type": "string"}}}
    """#
    static let schemaJSON = ToolArguments.schema(schemaText).json

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        let method = ToolArguments.string(arguments, "method") ?? "GET"
        guard rule.methods.isEmpty || rule.methods.contains(method) else {
            return .denial("method \(method) is not allowed (allowed: \(rule.methods.joined(separator: ", ")))")
        }
        let limit = rule.maxBytes ?? Self.defaultLimit
        let body = Array((ToolArguments.string(arguments, "body") ?? "").utf8)
        guard UInt64(body.count) <= limit else { return .denial("body is \(body.count) bytes; at most \(limit) allowed") }
        let headers: HTTPHeaders
        switch Self.headers(arguments, hasBody: !body.isEmpty) {
        case .failure(let refusal): return refusal.result
        case .success(let built): headers = built
        }
        let deadline = Clock.monotonic() + UInt64(rule.timeoutMilliseconds ?? Self.defaultTimeoutMilliseconds) * 1_000_000
        var target = ToolArguments.string(arguments, "url") ?? ""
        for _ in 0...Self.maximumRedirects {
            let url: HTTPURL, hostHeader: String
            switch check(target, rule: rule) {
            case .failure(let refusal): return refusal.result
            case .success(let checked): (url, hostHeader) = checked
            }
            var sent = headers
            sent.set("Host", hostHeader)
            let response: HTTPResponse
            switch fetch(url, method: method, headers: sent, body: method == "POST" ? body : [], limit: limit, deadline: deadline) {
            case .failure(let refusal): return refusal.result
            case .success(let fetched): response = fetched
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["location"] else {
                return Self.describe(response, url: target)
            }
            target = location.hasPrefix("/") ? "http://\(hostHeader)\(location)" : location
        }
        return .failure("too many redirects (more than \(Self.maximumRedirects))")
    }

    struct Refusal: Error { let result: ToolResult }

    /// The agent's headers, refusing malformed ones and those the broker owns.
    static func headers(_ arguments: JSONObject, hasBody: Bool) -> Result<HTTPHeaders, Refusal> {
        var headers = HTTPHeaders()
        if case .object(let given)? = arguments["headers"] {
            for (name, value) in given.members {
                guard case .string(let text) = value, isToken(name), !text.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) else {
                    return .failure(Refusal(result: .denial("header \(name): not a valid header")))
                }
                guard !reservedHeaders.contains(name.lowercased()) else {
                    return .failure(Refusal(result: .denial("header \(name) is set by the broker")))
                }
                headers.add(name, text)
            }
        }
        if hasBody && headers["content-type"] == nil { headers.add("Content-Type", "application/octet-stream") }
        return .success(headers)
    }

    /// Parses `text` and checks its host and port against the rule, then its addresses.
    func check(_ text: String, rule: ToolRule) -> Result<(HTTPURL, String), Refusal> {
        let url: HTTPURL
        do { url = try HTTPURL(parsing: text) } catch { return .failure(Refusal(result: .denial("\(text): \(error)"))) }
        let asked = HostPort(host: url.host, port: url.port)
        if rule.hosts.isEmpty { return .failure(Refusal(result: .denial("the policy allows http.fetch to no host"))) }
        let allowed = rule.hosts.compactMap { HostPort.parse($0) }
        guard allowed.contains(asked) else {
            return .failure(Refusal(result: .denial("\(asked) is not an allowed host (allowed: \(rule.hosts.joined(separator: ", ")))")))
        }
        if HTTPAddressCheck.isLiteral(url.host) || asked.host == "localhost" { return .success((url, url.hostHeader)) }
        switch HTTPAddressCheck.resolve(url.host) {
        case .failure(let failure): return .failure(Refusal(result: .failure(failure.message)))
        case .success(let addresses):
            if let inner = addresses.first(where: HTTPAddressCheck.isInternal) {
                return .failure(Refusal(result: .denial("\(url.host) resolves to \(inner), an internal address; name the address in the policy to allow it")))
            }
            // Connect to the address just checked, not to a second lookup of the name.
            var pinned = url
            pinned.host = addresses[0]
            return .success((pinned, url.hostHeader))
        }
    }

    func fetch(_ url: HTTPURL, method: String, headers: HTTPHeaders, body: [UInt8], limit: UInt64, deadline: UInt64) -> Result<HTTPResponse, Refusal> {
        let now = Clock.monotonic()
        guard now < deadline else { return .failure(Refusal(result: .failure("timed out"))) }
        do {
            return .success(try HTTPClient.fetch(url, method: method, headers: headers, body: body,
                                                 timeout: .nanoseconds(Int64(deadline - now)), maxResponseBytes: Int(limit)))
        } catch {
            return .failure(Refusal(result: .failure("\(method) \(url): \(error)")))
        }
    }

    static func describe(_ response: HTTPResponse, url: String) -> ToolResult {
        let text = String(validating: response.body, as: UTF8.self)
        var headers = JSONObject()
        for name in ["content-type", "content-length", "location", "last-modified", "etag"] {
            if let value = response.headers[name] { headers[name] = .string(value) }
        }
        let structured = JSONObject([("url", .string(url)), ("status", .number(JSONNumber(response.status))), ("headers", .object(headers)),
                                     ("encoding", .string(text == nil ? "base64" : "utf-8")),
                                     ("body", .string(text ?? Base64.encode(response.body)))])
        return ToolResult(text: "HTTP \(response.status)\n\n" + (text ?? Base64.encode(response.body)), structured: structured,
                          isError: response.status >= 400)
    }

    /// RFC 9110 token characters.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ToolRuleChars.isTokenByte($0) }
    }
}

enum ToolRuleChars {
    static func isTokenByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

enum Clock {
    static func monotonic() -> UInt64 { StdioChannel.monotonic() }
}
