import Testing
@testable import Broker

/// The Hermes-style `<tool_call>` convention: what the scanner makes of model text, however it is split.
@Suite("Tool-call scanning")
struct OpenAIToolCallFormatTests {
    static let call = ToolCallFormat.Call(name: "get_weather", arguments: #"{"city":"Paris"}"#)

    /// (model output, expected pieces)
    static let cases: [(String, [ToolCallScanner.Piece])] = [
        ("plain text", [.content("plain text")]),
        (#"Sure.<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>"#, [.content("Sure."), .call(call)]),
        ("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}\n</tool_call>", [.call(call)]),
        (#"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}"#, [.call(call)]),  // unclosed at the end
        ("<tool_call>not json</tool_call> after", [.content("<tool_call>not json</tool_call>"), .content(" after")]),
        ("<tool_call>{\"arguments\": {}}</tool_call>", [.content("<tool_call>{\"arguments\": {}}</tool_call>")]),
        ("a < b <tool", [.content("a < b <tool")]),
        (#"<tool_call>{"name":"a","arguments":{}}</tool_call><tool_call>{"name":"b","arguments":{"x":1}}</tool_call>"#,
         [.call(.init(name: "a", arguments: "{}")), .call(.init(name: "b", arguments: #"{"x":1}"#))]),
    ]

    @Test("whole text", arguments: cases)
    func whole(_ text: String, _ expected: [ToolCallScanner.Piece]) {
        var scanner = ToolCallScanner()
        #expect(Self.merged(scanner.feed(text) + scanner.finish()) == Self.merged(expected))
    }

    @Test("split at every position, the pieces are the same", arguments: cases)
    func split(_ text: String, _ expected: [ToolCallScanner.Piece]) {
        let characters = Array(text)
        for cut in 0...characters.count {
            var scanner = ToolCallScanner()
            let pieces = scanner.feed(String(characters[..<cut])) + scanner.feed(String(characters[cut...])) + scanner.finish()
            #expect(Self.merged(pieces) == Self.merged(expected), "cut at \(cut)")
        }
    }

    /// Adjacent content pieces joined (how they are cut depends on the split, not their text).
    static func merged(_ pieces: [ToolCallScanner.Piece]) -> [ToolCallScanner.Piece] {
        var out: [ToolCallScanner.Piece] = []
        for piece in pieces {
            if case .content(let text) = piece, text.isEmpty { continue }
            if case .content(let text) = piece, case .content(let previous)? = out.last {
                out[out.count - 1] = .content(previous + text)
            } else {
                out.append(piece)
            }
        }
        return out
    }
}
