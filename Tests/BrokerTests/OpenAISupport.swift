import Foundation
import HTTPServer
import Inference
import Specs
import Synchronization
@testable import Broker

/// Collects what the broker answers one request with (until the real server is wired in, the
/// handler is driven directly; the SDK tests go through real sockets).
final class CollectingResponder: HTTPResponder, @unchecked Sendable {
    private let lock = NSCondition()
    private(set) var status: Int?
    private(set) var headers = HTTPHeaders()
    private(set) var body: [UInt8] = []
    private var done = false
    /// Writes after this many return false (a client that went away).
    let failAfterWrites: Int?
    private var writes = 0

    init(failAfterWrites: Int? = nil) { self.failAfterWrites = failAfterWrites }

    func respond(_ response: HTTPResponse) {
        lock.lock(); defer { lock.unlock() }
        precondition(!done && status == nil, "answered twice")
        status = response.status; headers = response.headers; body = response.body; done = true
        lock.broadcast()
    }
    func startStream(status: Int, headers: HTTPHeaders) {
        lock.lock(); defer { lock.unlock() }
        precondition(self.status == nil, "answered twice")
        self.status = status; self.headers = headers
    }
    func write(_ bytes: [UInt8]) -> Bool {
        lock.lock(); defer { lock.unlock() }
        precondition(!done, "write after finish")
        writes += 1
        if let failAfterWrites, writes > failAfterWrites { return false }
        body += bytes
        return true
    }
    func finish() {
        lock.lock(); defer { lock.unlock() }
        precondition(!done, "finished twice")
        done = true
        lock.broadcast()
    }

    /// Waits for the answer (the handler may answer from a worker thread).
    func wait() -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        while !done { _ = lock.wait(until: Date().addingTimeInterval(30)) ; if !done { break } }
        return (status ?? 0, headers, body)
    }

    var json: JSONValue? { try? JSONParser.parse(wait().body) }

    /// The SSE `data:` payloads in order.
    var events: [String] {
        String(decoding: wait().body, as: UTF8.self).components(separatedBy: "\n\n").compactMap { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : nil
        }
    }
}

enum BrokerFixture {
    static let token = "test-token-123"

    static var modelPath: String? {
        guard let path = ModelLocation.defaultModelPath(), FileManager.default.fileExists(atPath: path) else { return nil }
        return path
    }

    /// A scripted provider answering with `respond` (the real model's tokenizer and template).
    static func scripted(_ respond: @escaping ScriptedModel.Respond) throws -> any ModelProvider {
        guard let modelPath else { throw BrokerError(.internalError, "the default model is not pulled (warden model pull)") }
        return try ScriptedModel.provider(modelPath: modelPath, respond: respond)
    }

    static func policy(models: [String] = ["scripted"], maxTokens: Int = 64, rpm: Int? = nil, tpm: Int? = nil,
                       budget: Int? = nil) -> BrokerPolicy {
        BrokerPolicy(models: models.map { .init(name: $0, maxTokensPerRequest: maxTokens) },
                     rateLimits: .init(requestsPerMinute: rpm, tokensPerMinute: tpm), tokenBudget: budget)
    }

    /// A broker with one endpoint on listener 1.
    static func broker(_ provider: any ModelProvider, policy: BrokerPolicy = policy()) throws -> (Broker, AgentEndpoint) {
        let catalog = ModelCatalog(["scripted": { () throws(BrokerError) -> any ModelProvider in provider },
                                    "instant": { () throws(BrokerError) -> any ModelProvider in InstantModelProvider(reply: "ok") }])
        let broker = Broker(models: catalog, workerThreads: 2)
        let endpoint = try AgentEndpoint(runID: "test", token: token, policy: policy, workspace: nil, trace: nil)
        broker.register(endpoint, listener: 1)
        return (broker, endpoint)
    }

    static func post(_ broker: Broker, _ body: String, path: String = "/v1/chat/completions", token: String? = token,
                     failAfterWrites: Int? = nil) -> CollectingResponder {
        post(broker, Array(body.utf8), path: path, token: token, failAfterWrites: failAfterWrites)
    }

    static func post(_ broker: Broker, _ body: [UInt8], path: String = "/v1/chat/completions", method: String = "POST",
                     token: String? = token, failAfterWrites: Int? = nil) -> CollectingResponder {
        var headers = HTTPHeaders([("content-type", "application/json")])
        if let token { headers.add("Authorization", "Bearer " + token) }
        let responder = CollectingResponder(failAfterWrites: failAfterWrites)
        broker.handle(HTTPRequest(method: method, target: path, headers: headers, body: body),
                      connection: HTTPConnectionInfo(listener: 1, connection: 1), responder: responder)
        _ = responder.wait()
        return responder
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
    subscript(_ index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }
    var string: String? { if case .string(let text) = self { return text }; return nil }
    var int: Int? { if case .number(let number) = self { return number.int64.map(Int.init) }; return nil }
}
