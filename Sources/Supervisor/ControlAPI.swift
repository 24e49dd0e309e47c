import Broker
import HTTPServer
import Specs

/// The control API: HTTP/1.1 + JSON on the supervisor's unix socket.
///
/// ```
/// GET    /healthz                          {"status": "ok" | "draining"}
/// GET    /metrics                          Prometheus text
/// GET    /v1/agents                        {"agents": [...]}
/// POST   /v1/agents                        {"spec": PATH, "concurrency"?, "queueLimit"?} -> 201 | 400 | 409
/// PUT    /v1/agents/{name}                 {"spec"?: PATH, ...} -> 200 | 400 | 404
/// DELETE /v1/agents/{name}                 -> 200 | 404
/// POST   /v1/agents/{name}/invocations     body: the input (bytes); ?wait=true, ?deadline=SECONDS
///                                          -> 202 {"run"} | 200 {"run", "stdout", "stderr"} | 404 | 429 | 503
/// GET    /v1/runs[?agent=NAME]             {"runs": [...]}
/// GET    /v1/runs/{id}                     {"run"}
/// GET    /v1/runs/{id}/logs                ?stream=stdout|stderr, ?follow=true (chunked until the run ends)
/// POST   /v1/runs/{id}/stop[?grace=S], /kill  SIGTERM then SIGKILL after S (default 10) | at once
///                                          -> {"run"} | 404 | 409
/// GET    /v1/traces[/{run}[/show|/verify|/otlp]] the trace directory (TraceAPI.swift)
/// POST   /v1/chat/completions, GET /v1/models  the shared inference pool's OpenAI-compatible API for
///                                          local callers (no API key: the socket's mode decides who
///                                          may call; callers are queued fairly by `user`)
/// ```
/// Errors are `{"error": {"message", "code"}}`. Slow work (store writes, waits, sandboxes) runs on
/// its own thread; the event loop only routes.
public struct ControlAPI: HTTPHandler {
    let supervisor: Supervisor
    /// Serves the model API on this socket (listener tag `ControlAPI.modelListener`).
    let modelAPI: Broker?
    /// The listener tag the model API's endpoint is registered under.
    static let modelListener = 0

    public init(supervisor: Supervisor, modelAPI: Broker? = nil) { self.supervisor = supervisor; self.modelAPI = modelAPI }

    /// A broker serving `supervisor.models` to local callers, registered for listener tag `modelListener`.
    public static func modelBroker(for supervisor: Supervisor) throws(SupervisorError) -> Broker {
        let broker = Broker(models: supervisor.models, workerThreads: 16)
        do {
            broker.register(try AgentEndpoint(runID: "local", token: "", policy: ModelServer.openPolicy(models: supervisor.models.names),
                                              workspace: nil, trace: nil, fairnessByUser: true, checksToken: false),
                            listener: modelListener)
        } catch {
            throw SupervisorError(.configuration, "the model API's policy: \(error)")
        }
        return broker
    }

    public func handle(_ request: HTTPRequest, connection: HTTPConnectionInfo, responder: HTTPResponder) {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let query = Self.query(request.target)
        switch (request.method, parts.count, parts.first) {
        case ("GET", 1, "healthz"):
            responder.respond(Self.json(200, .object(["status": .string(supervisor.isShuttingDown ? "draining" : "ok")])))
        case ("GET", 1, "metrics"):
            // Content negotiation as Prometheus does it: OpenMetrics when the scraper asks for it.
            let openMetrics = request.headers["accept"]?.contains("application/openmetrics-text") ?? false
            var headers = HTTPHeaders()
            headers.add("Content-Type", openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                    : "text/plain; version=0.0.4; charset=utf-8")
            responder.respond(HTTPResponse(status: 200, headers: headers, body: Array(supervisor.metricsText(openMetrics: openMetrics).utf8)))
        case (_, _, "v1") where parts.count >= 2 && (parts[1] == "chat" || parts[1] == "models") && modelAPI != nil:
            modelAPI?.handle(request, connection: HTTPConnectionInfo(listener: Self.modelListener, connection: connection.connection),
                             responder: responder)
        default:
            guard parts.first == "v1", parts.count >= 2 else { return responder.respond(Self.error(.notFound, "no such endpoint: \(request.path)")) }
            let work: @Sendable () -> Void = { route(request, Array(parts.dropFirst()), query, responder) }
            if !startDetachedThread(work) { responder.respond(Self.error(.shuttingDown, "no thread for the request")) }
        }
    }

    /// Routes /v1/... (on a worker thread).
    func route(_ request: HTTPRequest, _ parts: [String], _ query: [String: String], _ responder: HTTPResponder) {
        do throws(SupervisorError) {
            switch (request.method, parts.count, parts[0]) {
            case ("GET", 1, "agents"):
                responder.respond(Self.json(200, .object(["agents": .array(supervisor.listAgents())])))
            case ("POST", 1, "agents"):
                let body = try DeployBody(request.body, requireSpec: true)
                let record = try supervisor.deploy(specPath: body.spec ?? "", options: body.options)
                responder.respond(Self.json(201, .object(["agent": record.json])))
            case ("PUT", 2, "agents"):
                let body = try DeployBody(request.body, requireSpec: false)
                let current = supervisor.lock.withLock { supervisor.agents[parts[1]]?.record.specPath }
                guard let path = body.spec ?? current else { throw SupervisorError(.notFound, "no agent named \"\(parts[1])\"") }
                let record = try supervisor.deploy(specPath: path, options: body.options, replace: parts[1])
                responder.respond(Self.json(200, .object(["agent": record.json])))
            case ("DELETE", 2, "agents"):
                try supervisor.remove(agent: parts[1])
                responder.respond(Self.json(200, .object(["removed": .string(parts[1])])))
            case ("POST", 3, "agents") where parts[2] == "invocations":
                try invoke(parts[1], request.body, query, responder)
            case ("GET", 1, "runs"):
                let runs = supervisor.listRuns(agent: query["agent"]).map(\.json)
                responder.respond(Self.json(200, .object(["runs": .array(runs)])))
            case ("GET", 2, "runs"):
                responder.respond(Self.json(200, .object(["run": try supervisor.run(parts[1]).json])))
            case ("GET", 3, "runs") where parts[2] == "logs":
                try LogStream(supervisor: supervisor, runID: parts[1], stream: query["stream"] ?? "stdout",
                              follow: query["follow"] == "true").serve(responder)
            case ("GET", _, "traces") where parts.count <= 3:
                let value = try TraceAPI(directory: supervisor.traceDirectory).answer(parts.dropFirst(), query: query)
                responder.respond(Self.json(200, value))
            case ("POST", 3, "runs") where parts[2] == "stop" || parts[2] == "kill":
                var grace: Double? = nil
                if parts[2] == "stop" {
                    let text = query["grace"] ?? "10"
                    guard let seconds = Double(text), seconds >= 0, seconds <= 3600 else {
                        throw SupervisorError(.badRequest, "grace: expected seconds between 0 and 3600, got \"\(text)\"")
                    }
                    grace = seconds
                }
                _ = try supervisor.stop(run: parts[1], graceSeconds: grace)
                // Answered once the run has ended (reaped, trace closed): the grace, then moments.
                let run = try supervisor.waitForEnd(of: parts[1], deadline: monotonicNow() + UInt64(((grace ?? 0) + 10) * 1e9))
                responder.respond(Self.json(200, .object(["run": run.json])))
            default:
                throw SupervisorError(.notFound, "no such endpoint: \(request.method) \(request.path)")
            }
        } catch {
            responder.respond(Self.error(error.code, error.message))
        }
    }

    /// POST /v1/agents/{name}/invocations: accepted (202) or, with ?wait=true, answered when done.
    func invoke(_ agent: String, _ input: [UInt8], _ query: [String: String], _ responder: HTTPResponder) throws(SupervisorError) {
        var deadline: Double?
        if let text = query["deadline"] {
            guard let seconds = Double(text), seconds > 0, seconds < 1e9 else {
                throw SupervisorError(.badRequest, "deadline: expected a positive number of seconds, got \"\(text)\"")
            }
            deadline = seconds
        }
        let accepted = try supervisor.invoke(agent: agent, input: input, deadlineSeconds: deadline)
        guard query["wait"] == "true" else { return responder.respond(Self.json(202, .object(["run": accepted.json]))) }
        let run = try supervisor.waitForEnd(of: accepted.id)
        var object = JSONObject([("run", run.json)])
        for stream in ["stdout", "stderr"] {
            let bytes = (try? readFile(supervisor.store.logPath(run.id, stream: stream), limit: 1 << 30)) ?? []
            if let text = String(validating: bytes, as: UTF8.self) { object[stream] = .string(text) } else {
                object[stream + "_base64"] = .string(Base64Text.encode(bytes))
            }
        }
        responder.respond(Self.json(200, .object(object)))
    }

    /// A JSON response.
    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: headers, body: JSONWriter.compactBytes(value) + [0x0A])
    }

    /// `{"error": {"message", "code"}}` with the code's status.
    static func error(_ code: SupervisorError.Code, _ message: String) -> HTTPResponse {
        let error = SupervisorError(code, message)
        return json(error.httpStatus, .object(["error": .object(JSONObject([("message", .string(message)), ("code", .string(code.rawValue))]))]))
    }

    /// The query parameters (percent-decoded; the last of a repeated name wins).
    static func query(_ target: String) -> [String: String] {
        guard let mark = target.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let sides = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[percentDecoded(sides[0])] = sides.count > 1 ? percentDecoded(sides[1]) : ""
        }
        return result
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") { bytes.append(0x20); continue }
            guard byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { bytes.append(byte); continue }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The body of a deploy or update, strict:
/// `{"spec": PATH, "concurrency": N, "queueLimit": N, "replicas": N, "restart": "never|on-failure|always",
///   "serve": BOOL, "maxReplicas": N, "idleSeconds": S}`.
struct DeployBody {
    var spec: String?
    var options = DeployOptions()

    init(_ bytes: [UInt8], requireSpec: Bool) throws(SupervisorError) {
        do throws(JSONError) {
            let document = try JSONParser.parseDocument(bytes.isEmpty && !requireSpec ? Array("{}".utf8) : bytes, file: "<request body>")
            let object = try document.reader.object(keys: ["spec", "concurrency", "queueLimit", "replicas", "restart", "serve",
                                                           "maxReplicas", "idleSeconds"])
            options.serve = try object.optional("serve")?.bool()
            options.maxReplicas = try object.optional("maxReplicas").map { r throws(JSONError) in Int(try r.integer(in: 1...256)) }
            if let r = object.optional("idleSeconds") {
                let seconds = try r.number().double
                guard seconds > 0, seconds <= 86_400 else { throw r.error("idleSeconds must be between 0 and 86400") }
                options.idleSeconds = seconds
            }
            spec = try requireSpec ? object.required("spec").string() : object.optional("spec")?.string()
            options.concurrency = try object.optional("concurrency").map { r throws(JSONError) in Int(try r.integer(in: 1...1024)) }
            options.queueLimit = try object.optional("queueLimit").map { r throws(JSONError) in Int(try r.integer(in: 0...1_000_000)) }
            options.replicas = try object.optional("replicas").map { r throws(JSONError) in Int(try r.integer(in: 0...256)) }
            if let r = object.optional("restart") {
                let text = try r.string()
                guard let policy = RestartPolicy(rawValue: text) else {
                    throw r.error("expected one of \(RestartPolicy.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
                }
                options.restart = policy
            }
        } catch {
            throw SupervisorError(.badRequest, SpecError(error).description)
        }
    }
}

/// Base64 for output that is not UTF-8 (no Foundation under Sources/); the CLI decodes with it too.
public enum Base64Text {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index], b1 = index + 1 < bytes.count ? bytes[index + 1] : 0, b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes what `encode` wrote (characters outside the alphabet are skipped).
    public static func decode(_ text: String) -> [UInt8] {
        var reverse = [UInt8](repeating: 255, count: 256)
        for (index, c) in alphabet.enumerated() { reverse[Int(c)] = UInt8(index) }
        var out: [UInt8] = [], accumulator: UInt32 = 0, bits = 0
        out.reserveCapacity(text.utf8.count / 4 * 3)
        for c in text.utf8 where reverse[Int(c)] != 255 {
            accumulator = accumulator << 6 | UInt32(reverse[Int(c)])
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
