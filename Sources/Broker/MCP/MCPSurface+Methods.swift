import HTTPServer
import Specs
import TraceStore

/// The methods of an MCP session: initialize, ping, tools/list, tools/call.
extension MCPSurface {
    func initialize(id: JSONValue, params: JSONValue?, request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder) {
        guard case .object(let object)? = params, case .string(let asked)? = object["protocolVersion"] else {
            return MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.invalidParams,
                                  message: "initialize needs params.protocolVersion")
        }
        let version = Self.supportedVersions.contains(asked) ? asked : Self.supportedVersions[0]
        let sessionID = Self.newSessionID()
        let now = TraceStore.TraceClock.monotonicNanoseconds()
        sessions.withLock { table in
            let mine = table.filter { $0.value.runID == endpoint.runID }
            if mine.count >= Self.maximumSessionsPerRun, let oldest = mine.min(by: { $0.value.opened < $1.value.opened }) {
                table.removeValue(forKey: oldest.key)
            }
            table[sessionID] = Session(runID: endpoint.runID, version: version, opened: now)
        }
        let result = JSONObject([
            ("protocolVersion", .string(version)),
            ("capabilities", .object(["tools": .object(["listChanged": .bool(false)])])),
            ("serverInfo", .object(JSONObject([("name", .string("warden-broker")), ("version", .string("0.1.0"))]))),
            ("instructions", .string("Tools of this agent run, allowed by its policy; every call is checked and traced.")),
        ])
        var headers = HTTPHeaders()
        headers.add("MCP-Session-Id", sessionID)
        MCPReply.send(responder, request, status: 200, body: JSONRPC.response(id: id, result: .object(result)), headers: headers)
    }

    func dispatch(id: JSONValue, method: String, params: JSONValue?, request: HTTPRequest, endpoint: AgentEndpoint,
                  responder: HTTPResponder) {
        switch method {
        case "ping":
            MCPReply.send(responder, request, status: 200, body: JSONRPC.response(id: id, result: .object([:])))
        case "tools/list":
            let tools = registry(for: endpoint).descriptors.map(\.json)
            MCPReply.send(responder, request, status: 200, body: JSONRPC.response(id: id, result: .object(["tools": .array(tools)])))
        case "tools/call":
            call(id: id, params: params, request: request, endpoint: endpoint, responder: responder)
        default:
            MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.methodNotFound, message: "method not found: \(method)")
        }
    }

    /// Checks the call's shape and the tool's existence here (a protocol error, -32602); the call
    /// itself runs on a worker thread.
    func call(id: JSONValue, params: JSONValue?, request: HTTPRequest, endpoint: AgentEndpoint, responder: HTTPResponder) {
        guard case .object(let object)? = params, case .string(let name)? = object["name"] else {
            return MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.invalidParams, message: "tools/call needs params.name")
        }
        var arguments = JSONObject()
        switch object["arguments"] {
        case .object(let given)?: arguments = given
        case nil, .null?: break
        default:
            return MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.invalidParams, message: "params.arguments must be an object")
        }
        let registry = registry(for: endpoint)
        guard registry.entry(named: name) != nil else {
            return MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.invalidParams, message: "unknown tool: \(name)")
        }
        let callID: String = switch id {
        case .string(let text): text
        default: JSONWriter.compact(id)
        }
        let given = arguments
        workers.async {
            switch ToolInvocation.run(name, arguments: given, callID: callID, registry: registry, endpoint: endpoint) {
            case .success(let result):
                MCPReply.send(responder, request, status: 200, body: JSONRPC.response(id: id, result: result.json))
            case .failure(let unknown):
                MCPReply.error(responder, request, status: 200, id: id, code: JSONRPC.invalidParams, message: unknown.message)
            }
        }
    }

    /// 128 random bits in hex (visible ASCII, as the transport asks).
    static func newSessionID() -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for _ in 0..<2 {
            var word = UInt64.random(in: 0...UInt64.max)
            for _ in 0..<16 { text.append(digits[Int(word & 15)]); word >>= 4 }
        }
        return text
    }
}

/// Writing MCP answers: JSON, or one server-sent event when the client accepts only SSE.
enum MCPReply {
    static func send(_ responder: HTTPResponder, _ request: HTTPRequest, status: Int, body: JSONValue,
                     headers: HTTPHeaders = HTTPHeaders()) {
        var headers = headers
        let json = JSONWriter.compactBytes(body)
        if wantsEventStream(request.headers["accept"]) {
            headers.add("Content-Type", "text/event-stream")
            headers.add("Cache-Control", "no-cache")
            responder.respond(HTTPResponse(status: status, headers: headers, body: Array("event: message\ndata: ".utf8) + json + Array("\n\n".utf8)))
        } else {
            headers.add("Content-Type", "application/json")
            responder.respond(HTTPResponse(status: status, headers: headers, body: json))
        }
    }

    static func error(_ responder: HTTPResponder, _ request: HTTPRequest, status: Int, id: JSONValue, code: Int, message: String) {
        send(responder, request, status: status, body: JSONRPC.error(id: id, code: code, message: message))
    }

    /// True when the Accept header admits text/event-stream but not JSON.
    static func wantsEventStream(_ accept: String?) -> Bool {
        guard let accept else { return false }
        let types = accept.lowercased().split(separator: ",").map { ($0.split(separator: ";").first ?? "").trimmingCharacters(in: " \t") }
        let json = types.contains { $0 == "application/json" || $0 == "application/*" || $0 == "*/*" }
        return !json && types.contains("text/event-stream")
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return slice
    }
}
