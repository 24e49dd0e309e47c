import Foundation
import Testing
@testable import Inference

@Suite("Tokenizer properties: round trips, hostile bytes, bad metadata")
struct TokenizerPropertyTests {
    @Test("2,000 generated strings round-trip, except bytes the vocabulary has no token for")
    func generatedRoundTrips() throws {
        let tokenizer = try TextFixture.tokenizer()
        var generator = TextGenerator(state: 77)
        for _ in 0..<2000 {
            let text = generator.text()
            // U+0004 is byte 4, one of the 21 bytes with no token: llama.cpp drops it, and so do we.
            let expected = Array(text.utf8).filter { $0 != 4 }
            #expect(Array(tokenizer.decode(tokenizer.encode(text)).utf8) == expected, "\(text.debugDescription)")
            #expect(Array(tokenizer.decode(tokenizer.encode(text, parseSpecial: true), renderSpecial: true).utf8) == expected)
        }
        // The dropped byte still separates its neighbours during merging (as in llama.cpp).
        #expect(tokenizer.encode("a\u{4}b") == [81, 82])
    }

    @Test("random byte strings (invalid UTF-8 included) encode without trapping into valid ids")
    func randomBytes() throws {
        let tokenizer = try TextFixture.tokenizer()
        var random = Xoshiro256StarStar(seed: 5)
        for _ in 0..<2000 {
            let count = Int(random.next() % 64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let ids = bytes.withUnsafeBufferPointer { tokenizer.encode($0, specialAllowed: { _ in true }) }
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
        }
    }

    static func metadata(_ entries: [(String, (inout GGUFBuilder) -> Void)]) throws -> GGUFMetadata {
        let bytes = GGUFBuilder.file(extraKV: { kv in
            for (key, write) in entries {
                kv.string(key)
                write(&kv)
            }
            return entries.count
        })
        return try GGUFFile(bytes: bytes).metadata
    }

    static func string(_ value: String) -> (inout GGUFBuilder) -> Void { { $0.u32(8); $0.string(value) } }
    static func uint32(_ value: UInt32) -> (inout GGUFBuilder) -> Void { { $0.u32(4); $0.u32(value) } }
    static func merges(_ kv: inout GGUFBuilder) { kv.u32(9); kv.u32(8); kv.u64(1); kv.string("a b") }

    @Test("tokenizer metadata problems are errors that name the key or the value")
    func badMetadata() throws {
        let cases: [([(String, (inout GGUFBuilder) -> Void)], String)] = [
            ([], "tokenizer.ggml.model"),
            ([("tokenizer.ggml.model", Self.string("llama"))], "'llama' is not supported"),
            ([("tokenizer.ggml.model", Self.string("gpt2")), ("tokenizer.ggml.merges", Self.merges)], "eos_token_id"),
            ([("tokenizer.ggml.model", Self.string("gpt2")), ("tokenizer.ggml.merges", Self.merges),
              ("tokenizer.ggml.pre", Self.string("qwen2")), ("tokenizer.ggml.eos_token_id", Self.uint32(2))], "'qwen2'"),
            ([("tokenizer.ggml.model", Self.string("gpt2")), ("tokenizer.ggml.merges", Self.merges),
              ("tokenizer.ggml.eos_token_id", Self.uint32(99))], "outside the vocabulary"),
        ]
        for (entries, fragment) in cases {
            let metadata = try Self.metadata(entries)
            do {
                _ = try Tokenizer(gguf: metadata)
                Issue.record("accepted; expected an error with \(fragment)")
            } catch {
                #expect(error.message.contains(fragment), "\(error)")
            }
        }
        let good = try Self.metadata([("tokenizer.ggml.model", Self.string("gpt2")), ("tokenizer.ggml.merges", Self.merges),
                                      ("tokenizer.ggml.eos_token_id", Self.uint32(2))])
        let tiny = try Tokenizer(gguf: good)
        #expect(tiny.encode("ab") == [0, 1], "'a b' merges to 'ab', which is not a token, so it is skipped")
        #expect(tiny.encode("<|im_end|>", parseSpecial: true) == [2])
        #expect(throws: InferenceError.self) { try ChatTemplate(gguf: good) }
    }
}
