import Foundation
import Testing
@testable import Inference

/// A backend whose logits put one scripted token on top at each step, so the loop's bookkeeping (what
/// it feeds back, when it stops, what text it shows) can be checked token by token with the real
/// tokenizer and sampler; the real forward pass is exercised by GenerationModelTests.
final class ScriptedBackend: InferenceBackend, @unchecked Sendable {
    let config: ModelConfig
    let name = "scripted"
    private let script: [Int32]
    private let lock = NSLock()
    private(set) var inputs: [[Int32]] = []
    /// Each evaluation's start position and block table.
    private(set) var starts: [Int] = []
    private(set) var tables: [[Int32]] = []
    private var next = 0

    init(script: [Int32], context: Int = 8192) {
        self.script = script
        config = ModelConfig(layerCount: 1, embeddingLength: 64, feedForwardLength: 64, headCount: 1, kvHeadCount: 1,
                             vocabularySize: 49152, contextLength: context, ropeTheta: 10000, rmsEpsilon: 1e-5)
    }

    /// Blocks of 4 positions, just enough for one full context.
    var kvLayout: KVLayout { KVLayout(blockSize: 4, blockCount: (config.contextLength + 3) / 4, bytesPerBlock: 0) }

    func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        lock.withLock {
            inputs.append(contentsOf: batch.map(\.tokens))
            starts.append(contentsOf: batch.map(\.start))
            tables.append(contentsOf: batch.map(\.blocks))
            var logits = [Float](repeating: 0, count: config.vocabularySize)
            logits[Int(script[min(next, script.count - 1)])] = 10
            next += 1
            return [logits]
        }
    }
}

@Suite("Generation loop over a backend")
struct GenerationLoopTests {
    /// Token ids spelling `text` one byte per token, so every multi-byte character is split.
    static func byteTokens(_ text: String, _ tokenizer: Tokenizer) -> [Int32] {
        text.utf8.map { tokenizer.byteTokens[Int($0)] }
    }

    @Test("feeds back each sampled token, stops at EOS, streams whole characters only")
    func eosAndStreaming() throws {
        let tokenizer = try TextFixture.tokenizer()
        let script = Self.byteTokens("café 🙂!", tokenizer) + [2, 100]
        let backend = ScriptedBackend(script: script)
        var pieces: [String] = []
        let result = try Generator(backend: backend, tokenizer: tokenizer)
            .generate(GenerationRequest(prompt: [1, 4093, 198], maxTokens: 50)) { pieces.append($0) }
        #expect(result.text == "café 🙂!")
        #expect(pieces.joined() == result.text)
        #expect(pieces.allSatisfy { !$0.isEmpty && !$0.contains("\u{FFFD}") })
        #expect(pieces.contains("🙂"))
        #expect(result.tokens == Array(script.dropLast()))
        #expect(result.finishReason == .stop)
        #expect(result.promptTokens == 3 && result.completionTokens == script.count - 1)
        #expect(backend.inputs == [[1, 4093, 198]] + script.dropLast(2).map { [$0] })
        #expect(backend.starts == [0] + (0..<script.count - 2).map { 3 + $0 })
    }

    @Test("ignoring end-of-generation decodes exactly max_tokens and hides the end tokens' text")
    func ignoresEndOfGeneration() throws {
        let tokenizer = try TextFixture.tokenizer()
        let script = Self.byteTokens("ab", tokenizer) + [2] + Self.byteTokens("cd", tokenizer)
        let backend = ScriptedBackend(script: script)
        let request = GenerationRequest(prompt: [1], maxTokens: 5, ignoresEndOfGeneration: true)
        let result = try Generator(backend: backend, tokenizer: tokenizer).generate(request)
        #expect(result.tokens == script && result.finishReason == .length)
        #expect(result.text == "abcd")
        let ending = try Generator(backend: ScriptedBackend(script: Self.byteTokens("ab", tokenizer) + [2]), tokenizer: tokenizer)
            .generate(GenerationRequest(prompt: [1], maxTokens: 3, ignoresEndOfGeneration: true))
        #expect(ending.finishReason == .length && ending.completionTokens == 3 && ending.text == "ab")
    }

    @Test("a stop string spread over tokens ends the generation and is not emitted")
    func stopString() throws {
        let tokenizer = try TextFixture.tokenizer()
        let script = Self.byteTokens("1, 2, 3; 4, 5", tokenizer)
        let backend = ScriptedBackend(script: script)
        var pieces: [String] = []
        let request = GenerationRequest(prompt: [1], maxTokens: 100, stop: ["3; 4", "never"])
        let result = try Generator(backend: backend, tokenizer: tokenizer).generate(request) { pieces.append($0) }
        #expect(result.text == "1, 2, ")
        #expect(pieces.joined() == "1, 2, ")
        #expect(result.finishReason == .stop)
        #expect(result.stopString == "3; 4")
        #expect(result.tokens == Array(script.prefix(10)))
    }

    @Test("max_tokens ends with finish reason length; held text is flushed")
    func maxTokens() throws {
        let tokenizer = try TextFixture.tokenizer()
        let backend = ScriptedBackend(script: Self.byteTokens("abcdEN", tokenizer))
        let request = GenerationRequest(prompt: [1, 2], maxTokens: 6, stop: ["END"])
        let result = try Generator(backend: backend, tokenizer: tokenizer).generate(request)
        #expect(result.finishReason == .length)
        #expect(result.text == "abcdEN")
        #expect(result.completionTokens == 6)
        #expect(backend.starts == [0, 2, 3, 4, 5, 6])
        #expect(backend.tables.allSatisfy { $0 == [0, 1] })  // 8 positions in blocks of 4
    }

    @Test("the context bounds the generation: a long prompt is refused, a full context ends with length")
    func context() throws {
        let tokenizer = try TextFixture.tokenizer()
        let small = ScriptedBackend(script: [65], context: 10)
        let generator = Generator(backend: small, tokenizer: tokenizer)
        do {
            _ = try generator.generate(GenerationRequest(prompt: Array(repeating: 65, count: 10)))
            Issue.record("expected a context error")
        } catch {
            #expect(error.code == .contextOverflow)
            #expect(error.message.contains("10 tokens") && error.message.contains("context holds 10"))
        }
        let result = try generator.generate(GenerationRequest(prompt: Array(repeating: 65, count: 8), maxTokens: 100))
        #expect(result.finishReason == .length)
        #expect(result.completionTokens == 2)
        #expect(small.starts == [0, 8])
        #expect(small.tables.allSatisfy { $0 == [0, 1, 2] })
    }

    @Test("bad requests are refused before touching the backend")
    func badRequests() throws {
        let tokenizer = try TextFixture.tokenizer()
        let backend = ScriptedBackend(script: [65])
        let generator = Generator(backend: backend, tokenizer: tokenizer)
        let bad = [
            GenerationRequest(prompt: []), GenerationRequest(prompt: [1], maxTokens: 0),
            GenerationRequest(prompt: [1], stop: [""]), GenerationRequest(prompt: [60000]),
        ]
        for request in bad {
            #expect(throws: InferenceError.self) { try generator.generate(request) }
        }
        #expect(backend.inputs.isEmpty)
    }

    @Test("sampling with a seed is reproducible through the loop")
    func seeded() throws {
        let tokenizer = try TextFixture.tokenizer()
        var sampling = SamplingParameters()
        sampling.seed = 99
        sampling.temperature = 1
        let request = GenerationRequest(prompt: [1], maxTokens: 5, sampling: sampling)
        let a = try Generator(backend: ScriptedBackend(script: [65, 66, 67]), tokenizer: tokenizer).generate(request)
        let b = try Generator(backend: ScriptedBackend(script: [65, 66, 67]), tokenizer: tokenizer).generate(request)
        #expect(a == b)
    }
}
