import Foundation
import Testing
import TestSupport

@Suite("warden generate")
struct GenerateCommandTests {
    struct Reference: Decodable {
        struct Message: Codable { var role: String; var content: String }
        struct Case: Decodable {
            var name: String
            var messages: [Message]
            var prompt_token_ids: [Int]
            var greedy_token_ids: [Int]
            var greedy_text: String
            var step_margins_top1_minus_top2: [Double]
        }
        var cases: [Case]
    }

    static func reference() throws -> Reference {
        let url = WardenTool.packageRoot.appendingPathComponent("Tests/Data/smollm2-reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static func run(_ request: String, _ extra: [String] = []) throws -> (WardenTool.Result, [String: Any]?) {
        let result = try WardenTool.run(["generate"] + extra, input: request, timeout: 120)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result, object)
    }

    @Test("robust reference cases: greedy ids, text, finish reason and usage as llama.cpp recorded")
    func referenceCases() throws {
        for item in try Self.reference().cases where item.step_margins_top1_minus_top2.allSatisfy({ $0 >= 0.5 }) {
            let messages = try JSONEncoder().encode(item.messages)
            let request = "{\"messages\": \(String(decoding: messages, as: UTF8.self)), \"temperature\": 0, \"max_tokens\": 64}"
            let (result, output) = try Self.run(request)
            #expect(result.status == 0, "\(item.name): \(result.stderr)")
            let object = try #require(output, "\(item.name): stdout is not one JSON object: \(result.stdout)")
            #expect(object["token_ids"] as? [Int] == item.greedy_token_ids, "\(item.name)")
            #expect(object["text"] as? String == item.greedy_text)
            #expect(object["finish_reason"] as? String == "stop")
            let usage = try #require(object["usage"] as? [String: Int])
            #expect(usage["prompt_tokens"] == item.prompt_token_ids.count)
            #expect(usage["completion_tokens"] == item.greedy_token_ids.count)
            #expect(usage["total_tokens"] == item.prompt_token_ids.count + item.greedy_token_ids.count)
        }
    }

    @Test("stop strings end the text early and are reported; max_tokens gives finish_reason length")
    func stopAndLength() throws {
        let ask = #"{"messages": [{"role": "user", "content": "List the numbers from 1 to 10, separated by commas."}], "temperature": 0"#
        let (stopped, a) = try Self.run(ask + #", "stop": [", 4", "zzz"]}"#)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(a?["text"] as? String == "1, 2, 3")
        #expect(a?["finish_reason"] as? String == "stop")
        #expect(a?["stop"] as? String == ", 4")
        let (short, b) = try Self.run(ask + #", "max_tokens": 3}"#)
        #expect(short.status == 0)
        #expect(b?["finish_reason"] as? String == "length")
        #expect((b?["token_ids"] as? [Int])?.count == 3)
    }

    @Test("a seed makes a sampled generation repeat; the seed used is reported")
    func seed() throws {
        let request = #"{"messages": [{"role": "user", "content": "Say something."}], "temperature": 1.0, "top_k": 0, "seed": 5, "max_tokens": 10}"#
        let (first, a) = try Self.run(request)
        let (_, b) = try Self.run(request)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(a?["token_ids"] as? [Int] == b?["token_ids"] as? [Int])
        #expect(a?["seed"] as? Int == 5)
    }

    static let badRequests: [(String, String)] = [
        (#"{"messages": [{"role": "user", "content": "x"}], "temprature": 0}"#, "$.temprature"),
        (#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}"#, "$.max_tokens"),
        (#"{"messages": [{"role": "user", "content": 5}]}"#, "$.messages[0].content"),
        (#"{"messages": [{"role": "wizard", "content": "x"}]}"#, "$.messages[0].role"),
        (#"{"messages": [{"role": "user", "content": "x", "colour": 1}]}"#, "$.messages[0].colour"),
        (#"{"messages": []}"#, "$.messages"),
        (#"{"max_tokens": 5}"#, "messages"),
        (#"{"messages": [{"role": "user", "content": "x"}], "top_p": 1.5}"#, "$.top_p"),
        (#"{"messages": [{"role": "user", "content": "x"}], "temperature": -1}"#, "$.temperature"),
        (#"{"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]}"#, "$.stop"),
        (#"{"messages": [{"role": "user", "content": "x"}], "n": 2}"#, "$.n"),
        (#"{"messages": [{"role": "assistant", "content": null, "tool_calls": []}]}"#, "tool_calls"),
        (#"{"messages": [{"role": "user", "content": "x"}], "stream": true}"#, "stream"),
        (#"{"messages": [{"role": "user", "content": "x"}],}"#, "<stdin>:1:"),
        ("", "<stdin>"),
    ]

    @Test("bad requests exit 2 with the JSON path (and line:column) of the problem", arguments: badRequests)
    func badRequest(request: String, fragment: String) throws {
        let (result, _) = try Self.run(request)
        #expect(result.status == 2)
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a prompt longer than the context is refused with a message that says so")
    func contextOverflow() throws {
        let long = String(repeating: "word ", count: 9000)
        let (result, _) = try Self.run(#"{"messages": [{"role": "user", "content": "\#(long)"}]}"#)
        #expect(result.status == 2)
        #expect(result.stderr.contains("context holds 8192"), "\(result.stderr)")
    }

    @Test("a missing model exits 1 and says how to fetch it; stray arguments are usage errors")
    func modelAndArguments() throws {
        let request = #"{"messages": [{"role": "user", "content": "x"}]}"#
        let (missing, _) = try Self.run(request, ["--model", "/nonexistent/m.gguf"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("warden model pull"))
        let (stray, _) = try Self.run(request, ["--verbose"])
        #expect(stray.status == 2)
        #expect(stray.stderr.contains("--verbose"))
    }
}
