import Foundation
import Testing
import TestSupport
@testable import Inference

/// llama.cpp itself (through llama-cpp-python in the benchmark venv) as a test-time oracle over many
/// generated strings. The venv takes minutes to build, so CI does not install it: without it these
/// tests are skipped with a visible reason.
enum LlamaCppOracle {
    static let python = "/root/.cache/warden-bench/venv/bin/python"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: python) }

    static let script = """
        import json, sys
        from llama_cpp import Llama
        model_path, cases_path = sys.argv[1], sys.argv[2]
        llm = Llama(model_path=model_path, vocab_only=True, verbose=False)
        out = []
        for text in json.load(open(cases_path, encoding="utf-8")):
            b = text.encode("utf-8")
            out.append([llm.tokenize(b, add_bos=False, special=True), llm.tokenize(b, add_bos=False, special=False)])
        json.dump(out, sys.stdout)
        """

    /// Token ids llama.cpp gives each text: (special parsing on, off).
    static func tokenize(_ texts: [String], model: String) throws -> [([Int32], [Int32])] {
        let casesURL = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(getpid()).json")
        try JSONSerialization.data(withJSONObject: texts).write(to: casesURL)
        defer { try? FileManager.default.removeItem(at: casesURL) }
        let result = try WardenTool.runProcess(python, ["-c", script, model, casesURL.path], timeout: 120)
        try #require(result.status == 0, "llama-cpp-python failed: \(result.stderr)")
        let decoded = try JSONDecoder().decode([[[Int32]]].self, from: Data(result.stdout.utf8))
        return decoded.map { ($0[0], $0[1]) }
    }
}

/// Random strings from pieces that exercise every pre-tokenizer rule and the byte fallback.
struct TextGenerator {
    var state: UInt64
    static let pieces = [
        "a", "Z", "word", " word", "  ", "   ", "\t", "\n", "\r\n", " \n ", "0", "42", " 7", "3.5", "'s", "'t", "'re",
        "'ve", "'m", "'ll", "'d", "'S", "'x", "!", "?!", "...", " ,", "(", ")]", "{}", "$", "€", "—", "“", "”", "é",
        "ñ", "ü", "ß", "Ω", "щ", "ع", "٣", "½", "Ⅻ", "中", "文", "日本", "한", "🙂", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\u{301}",
        "\u{200B}", "\u{A0}", "\u{3000}", "\u{2028}", "\u{4}", "\u{1F}", "<|im_start|>", "<|im_end|>", "<|endoftext|>",
        "<file_sep>", "<|im_", "|>", "<", ">", "_", "__init__", "http://x.y/z?a=1&b=2", "CamelCase", "snake_case",
    ]

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func text() -> String {
        let count = Int(next() % 24)
        return (0..<count).map { _ in Self.pieces[Int(next() % UInt64(Self.pieces.count))] }.joined()
    }
}

@Suite("Tokenizer against llama.cpp (llama-cpp-python oracle)",
       .enabled(if: LlamaCppOracle.available, "llama-cpp-python venv not at /root/.cache/warden-bench/venv"))
struct TokenizerOracleTests {
    @Test("500 generated strings and the round-trip table encode exactly as llama.cpp does")
    func generatedStrings() throws {
        let tokenizer = try TextFixture.tokenizer()
        var generator = TextGenerator(state: 20_261_202)
        var texts = TokenizerTests.roundTrips
        for _ in 0..<500 { texts.append(generator.text()) }
        let expected = try LlamaCppOracle.tokenize(texts, model: TextFixture.modelPath())
        try #require(expected.count == texts.count)
        var mismatches = 0
        for (text, ids) in zip(texts, expected) {
            let special = tokenizer.encode(text, parseSpecial: true)
            let plain = tokenizer.encode(text, parseSpecial: false)
            if special != ids.0 || plain != ids.1 {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(text.debugDescription): ours \(special) / \(plain), llama.cpp \(ids.0) / \(ids.1)")
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(texts.count) strings differ")
    }
}
