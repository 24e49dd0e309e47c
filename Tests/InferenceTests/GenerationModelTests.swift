import Foundation
import Testing
@testable import Inference

/// The whole path on the real model: messages → chat template → tokenizer → CPU forward pass →
/// greedy sampler → generation loop, against llama.cpp's recorded ids.
enum LoadedModelFixture {
    static let shared: Result<LoadedModel, any Error> = Result {
        try LoadedModel(path: TextFixture.modelPath(), threads: 2)
    }
    static func model() throws -> LoadedModel { try shared.get() }
}

@Suite("Generation end to end on SmolLM2 against llama.cpp", .serialized)
struct GenerationModelTests {
    static let caseNames: [String] = (try? Reference.load().cases.map(\.name)) ?? []

    @Test("greedy ids match llama.cpp's up to the first step with a margin under 0.5 logits", arguments: caseNames)
    func greedyMatchesReference(name: String) throws {
        let reference = try Reference.load()
        let item = try #require(reference.cases.first { $0.name == name })
        let model = try LoadedModelFixture.model()
        let messages = item.messages.map { ChatMessage(role: $0.role, content: $0.content) }
        // The reference rendered the template with Jinja, then tokenized with special parsing on.
        #expect(try model.template.render(messages).text == item.rendered_prompt)
        let prompt = try model.promptTokens(for: messages)
        try #require(prompt == item.prompt_token_ids)

        var streamed = ""
        let result = try model.generator.generate(
            GenerationRequest(prompt: prompt, maxTokens: reference.max_new_tokens, sampling: .greedy)) { streamed += $0 }
        let robustUntil = item.step_margins_top1_minus_top2.firstIndex { $0 < 0.5 } ?? item.greedy_token_ids.count
        if robustUntil == item.greedy_token_ids.count {
            #expect(result.tokens == item.greedy_token_ids, "whole sequence (min margin ≥ 0.5)")
            #expect(result.text == item.greedy_text)
            #expect(result.finishReason == (item.ends_with_eos ? .stop : .length))
        } else {
            #expect(Array(result.tokens.prefix(robustUntil)) == Array(item.greedy_token_ids.prefix(robustUntil)),
                    "first \(robustUntil) tokens (step \(robustUntil) has margin \(item.step_margins_top1_minus_top2[robustUntil]))")
        }
        #expect(streamed == result.text)
        #expect(result.promptTokens == item.prompt_token_ids.count)
    }

    @Test("a seeded sampled generation replays exactly, and another seed differs")
    func seededReplay() throws {
        let model = try LoadedModelFixture.model()
        let prompt = try model.promptTokens(for: [ChatMessage(role: "user", content: "Tell me a short story about a cat.")])
        func run(_ seed: UInt64) throws -> GenerationResult {
            var sampling = SamplingParameters()
            sampling.temperature = 1.0
            sampling.seed = seed
            return try model.generator.generate(GenerationRequest(prompt: prompt, maxTokens: 24, sampling: sampling))
        }
        let first = try run(1234)
        #expect(try run(1234) == first)
        #expect(try run(99) != first)
    }

    @Test("stop strings and max_tokens on the real model")
    func stopAndLength() throws {
        let model = try LoadedModelFixture.model()
        let reference = try Reference.load()
        let count = try #require(reference.cases.first { $0.name == "count" })
        let result = try model.generator.generate(GenerationRequest(prompt: count.prompt_token_ids, maxTokens: 64, stop: [", 4"]))
        #expect(result.text == "1, 2, 3")
        #expect(result.finishReason == .stop && result.stopString == ", 4")
        let short = try model.generator.generate(GenerationRequest(prompt: count.prompt_token_ids, maxTokens: 5))
        #expect(short.tokens == Array(count.greedy_token_ids.prefix(5)))
        #expect(short.finishReason == .length && short.text == "1, 2,")
    }
}
