import Foundation
import Specs
import Testing
@testable import Broker

/// Bad requests get a precise 4xx in OpenAI's error shape, never a crash or a hang.
@Suite("OpenAI request decoding")
struct OpenAIRequestTests {
    static let good = #"{"model":"instant","messages":[{"role":"user","content":"hi"}]}"#

    /// (body, status, error code, text in the message, param)
    static let bad: [(String, Int, String, String, String?)] = [
        ("", 400, "invalid_request_error", "invalid request body", nil),
        ("{", 400, "invalid_request_error", "invalid request body", nil),
        ("[]", 400, "invalid_request_error", "expected an object", "$"),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, 400, "invalid_request_error", "missing required key \"model\"", "$"),
        (#"{"model":"instant","messages":[]}"#, 400, "invalid_request_error", "must not be empty", "$.messages"),
        (#"{"model":"instant","messages":[{"role":"wizard","content":"x"}]}"#, 400, "invalid_request_error", "unknown role", "$.messages[0].role"),
        (#"{"model":"instant","messages":[{"role":"user","content":5}]}"#, 400, "invalid_request_error", "expected a string", "$.messages[0].content"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, 400, "invalid_request_error", "expected a number", "$.temperature"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"temperature":7}"#, 400, "invalid_request_error", "out of range", "$.temperature"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, 400, "invalid_request_error", "out of range", "$.max_tokens"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"n":2}"#, 400, "invalid_request_error", "only n = 1", "$.n"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}"#, 400, "invalid_request_error", "at most 4", "$.stop"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}"#, 400, "invalid_request_error", "json_schema is not supported", "$.response_format.type"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"bad name"}}]}"#, 400, "invalid_request_error", "tool names", "$.tools[0].function.name"),
        (#"{"model":"instant","messages":[{"role":"tool","content":"x"}]}"#, 400, "invalid_request_error", "tool_call_id", "$.messages[0]"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"frobnicate":1}"#, 400, "invalid_request_error", "unknown key", "$.frobnicate"),
        (#"{"model":"instant","model":"instant","messages":[{"role":"user","content":"x"}]}"#, 400, "invalid_request_error", "duplicate", nil),
        (#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#, 403, "policy_denied", "not allowed", "model"),
        (#"{"model":"instant","messages":[{"role":"user","content":"x"}],"max_completion_tokens":65}"#, 403, "policy_denied", "more than the policy allows", "max_completion_tokens"),
    ]

    @Test("malformed and refused requests", arguments: bad)
    func refused(_ body: String, _ status: Int, _ code: String, _ message: String, _ param: String?) throws {
        let (broker, _) = try BrokerFixture.broker(InstantModelProvider(), policy: BrokerFixture.policy(models: ["instant"]))
        let answer = BrokerFixture.post(broker, body)
        let (gotStatus, headers, _) = answer.wait()
        #expect(gotStatus == status)
        let error = try #require(answer.json?["error"])
        #expect(error["code"]?.string == code)
        #expect(error["message"]?.string?.contains(message) == true, "\(error["message"]?.string ?? "")")
        if let param { #expect(error["param"]?.string == param) }
        #expect(headers["x-should-retry"] == "false")
        #expect(headers["content-type"] == "application/json")
    }

    @Test("invalid UTF-8 in the body is a 400")
    func invalidUTF8() throws {
        let (broker, _) = try BrokerFixture.broker(InstantModelProvider(), policy: BrokerFixture.policy(models: ["instant"]))
        var body = Array(#"{"model":"instant","messages":[{"role":"user","content":"x"#.utf8)
        body += [0xC3, 0x28] + Array(#""}]}"#.utf8)
        let answer = BrokerFixture.post(broker, body)
        #expect(answer.wait().status == 400)
        #expect(answer.json?["error"]?["message"]?.string?.contains("UTF-8") == true)
    }

    @Test("a huge body of nested arrays is refused without a crash")
    func deepNesting() throws {
        let (broker, _) = try BrokerFixture.broker(InstantModelProvider(), policy: BrokerFixture.policy(models: ["instant"]))
        let body = Array(String(repeating: "[", count: 100_000).utf8)
        #expect(BrokerFixture.post(broker, body).wait().status == 400)
    }

    @Test("random bytes never crash the handler and always get a 4xx")
    func randomBodies() throws {
        let (broker, _) = try BrokerFixture.broker(InstantModelProvider(), policy: BrokerFixture.policy(models: ["instant"]))
        var generator = SystemRandomNumberGenerator()
        let seed = Array(Self.good.utf8)
        for round in 0..<300 {
            var body = seed
            for _ in 0...(round % 6) {
                let index = Int(generator.next() % UInt64(body.count))
                switch generator.next() % 3 {
                case 0: body[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: body.remove(at: index)
                default: body.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                }
            }
            let status = BrokerFixture.post(broker, body).wait().status
            #expect(status == 200 || (400..<500).contains(status), "round \(round): \(status)")
        }
    }

    @Test("authentication, routing and methods")
    func routing() throws {
        let (broker, _) = try BrokerFixture.broker(InstantModelProvider(), policy: BrokerFixture.policy(models: ["instant", "scripted"]))
        #expect(BrokerFixture.post(broker, Self.good, token: nil).wait().status == 401)
        #expect(BrokerFixture.post(broker, Self.good, token: "wrong").wait().status == 401)
        #expect(BrokerFixture.post(broker, Self.good).wait().status == 200)
        #expect(BrokerFixture.post(broker, Self.good, path: "/v1/nope").wait().status == 404)
        #expect(BrokerFixture.post(broker, Self.good, path: "/other").wait().status == 404)
        #expect(BrokerFixture.post(broker, Self.good, path: "/mcp").wait().status == 404)
        #expect(BrokerFixture.post(broker, [], path: "/v1/chat/completions", method: "GET").wait().status == 405)
        let models = BrokerFixture.post(broker, [], path: "/v1/models", method: "GET")
        #expect(models.wait().status == 200)
        #expect(models.json?["data"]?[0]?["id"]?.string == "instant" && models.json?["data"]?[1]?["id"]?.string == "scripted")
        #expect(models.json?["data"]?[2] == nil)
        #expect(BrokerFixture.post(broker, [], path: "/v1/models/scripted", method: "GET").wait().status == 200)
        #expect(BrokerFixture.post(broker, [], path: "/v1/models/gpt-4", method: "GET").wait().status == 404)
    }
}
