import Foundation
import Testing
import TestSupport

/// The default model must be in place for these (Scripts/test pulls it); if it is missing they fail
/// with warden's own message, which says to run `warden model pull`.
@Suite("warden chat")
struct ChatCommandTests {
    @Test("a greedy reply to the reference prompt is llama.cpp's, streamed to stdout")
    func greedyReply() throws {
        let result = try WardenTool.run(["chat", "What is 2+2?", "--temperature", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "The answer to this classic math problem is 4.\n")
    }

    @Test("--system replaces the default system prompt")
    func systemPrompt() throws {
        let result = try WardenTool.run(["chat", "List the numbers from 1 to 10, separated by commas.",
                                         "--system", "You are a helpful assistant.", "--temperature=0", "--max-tokens", "64"],
                                        timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10\n")
    }

    @Test("the same seed gives the same sampled reply; --max-tokens bounds it")
    func seeded() throws {
        let args = ["chat", "Tell me about cats.", "--seed", "42", "--temperature", "1", "--max-tokens", "12"]
        let first = try WardenTool.run(args, timeout: 120)
        let second = try WardenTool.run(args, timeout: 120)
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(!first.stdout.isEmpty && first.stdout.count < 200)
    }

    static let usageErrors: [([String], String)] = [
        (["chat"], "missing the prompt"),
        (["chat", "hi", "--max-tokens", "0"], "--max-tokens"),
        (["chat", "hi", "--temperature", "warm"], "--temperature"),
        (["chat", "hi", "--seed", "-1"], "--seed"),
        (["chat", "hi", "--top-q", "1"], "--top-q"),
        (["chat", "hi", "there"], "there"),
        (["chat", "hi", "--model"], "--model needs a value"),
    ]

    @Test("usage errors exit 2 and say what is wrong", arguments: usageErrors)
    func usageError(arguments: [String], message: String) throws {
        let result = try WardenTool.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a missing model exits 1 and says how to fetch it")
    func missingModel() throws {
        let result = try WardenTool.run(["chat", "hi", "--model", "/nonexistent/model.gguf"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/model.gguf") && result.stderr.contains("warden model pull"))
    }
}
