import Foundation
import Testing
@testable import Inference

@Suite("Tokenizer: SmolLM2 vocabulary against llama.cpp")
struct TokenizerTests {
    static let referenceTexts: [String] = (try? Reference.load().tokenizer_cases.map(\.text)) ?? []

    @Test("encodes every reference string exactly as llama.cpp, special parsing on and off",
          arguments: referenceTexts)
    func referenceVectors(text: String) throws {
        let tokenizer = try TextFixture.tokenizer()
        let item = try #require(try Reference.load().tokenizer_cases.first { $0.text == text })
        #expect(tokenizer.encode(text, parseSpecial: true) == item.ids_parse_special)
        #expect(tokenizer.encode(text, parseSpecial: false) == item.ids_no_special)
    }

    @Test("decodes the reference ids back to the original text")
    func referenceDecode() throws {
        let tokenizer = try TextFixture.tokenizer()
        for item in try Reference.load().tokenizer_cases {
            #expect(tokenizer.decode(item.ids_no_special) == item.text)
            #expect(tokenizer.decode(item.ids_parse_special, renderSpecial: true) == item.text)
        }
    }

    @Test("the rendered chat prompts tokenize to the reference prompt ids")
    func renderedPrompts() throws {
        let tokenizer = try TextFixture.tokenizer()
        for item in try Reference.load().cases {
            #expect(tokenizer.encode(item.rendered_prompt, parseSpecial: true) == item.prompt_token_ids, "\(item.name)")
        }
    }

    @Test("the greedy reference outputs decode to their recorded text")
    func referenceOutputsDecode() throws {
        let tokenizer = try TextFixture.tokenizer()
        for item in try Reference.load().cases {
            #expect(tokenizer.decode(item.greedy_token_ids) == item.greedy_text, "\(item.name)")
        }
    }

    @Test("special ids and the end-of-generation set match llama.cpp's")
    func specialIDs() throws {
        let tokenizer = try TextFixture.tokenizer()
        let reference = try Reference.load()
        #expect(tokenizer.eosID == reference.eos_token_id)
        #expect(tokenizer.endOfGenerationIDs == Set(reference.eog_token_ids_llama_cpp))
        #expect(tokenizer.vocabularySize == 49152)
        #expect(!tokenizer.addsBOS)
        #expect(tokenizer.tokenType(of: 1) == .control)
        #expect(tokenizer.bytes(of: 2).isEmpty)
        #expect(Array(tokenizer.bytes(of: 2, renderSpecial: true)) == Array("<|im_end|>".utf8))
    }

    static let roundTrips: [String] = [
        "", " ", "  ", "\n", "\n\n\n", "\t \t", "a", "   leading and trailing   ",
        "1234567890", "3.14159e-10", "x=1,y=22;z=333", "٣٤٥ Arabic-Indic digits", "½ ¾ Ⅻ",
        "don't I'D we'LL 'tis '''", "naïve façade coöperate", "Ελληνικά русский язык", "中文字符测试，标点。",
        "日本語のテキスト", "한국어 텍스트", "emoji 🙂👍🏽👨‍👩‍👧 flags 🇫🇷", "e\u{301} combining", "zero\u{200B}width",
        "tabs\tand\r\nCRLF", "mixed ⟨brackets⟩ «quotes» “smart”", "<|im_start|> not special here",
        "<|im_end", "|>", "<<|im_end|>>", String(repeating: "ab", count: 500), String(repeating: " ", count: 300),
        "\u{0}\u{1}\u{7F} control bytes", "\u{10FFFF} last scalar", "a\u{00A0}b\u{3000}c",
    ]

    @Test("decode(encode(s)) == s for unicode, emoji, whitespace runs, digits, contractions, empty",
          arguments: roundTrips)
    func roundTrip(text: String) throws {
        let tokenizer = try TextFixture.tokenizer()
        let ids = tokenizer.encode(text)
        #expect(tokenizer.decode(ids) == text)
        #expect(ids.allSatisfy { $0 >= 17 && $0 < 49152 }, "ordinary text never yields control tokens")
        #expect(tokenizer.encode(text, parseSpecial: true).count >= 0)
    }

    @Test("digits are split one per token (smollm pre-tokenizer)")
    func digitsSplit() throws {
        let tokenizer = try TextFixture.tokenizer()
        let ids = tokenizer.encode("2024")
        #expect(ids.count == 4)
        #expect(ids.map { tokenizer.decode([$0]) } == ["2", "0", "2", "4"])
    }

    @Test("special tokens in text: parsed as one id with parsing on, as text with it off")
    func specialParsing() throws {
        let tokenizer = try TextFixture.tokenizer()
        #expect(tokenizer.encode("<|im_end|>", parseSpecial: true) == [2])
        #expect(tokenizer.encode("a<|endoftext|>b", parseSpecial: true).contains(0))
        #expect(!tokenizer.encode("a<|endoftext|>b", parseSpecial: false).contains(0))
        #expect(tokenizer.encode("<|im_start|><|im_end|>", parseSpecial: true) == [1, 2])
    }
}
