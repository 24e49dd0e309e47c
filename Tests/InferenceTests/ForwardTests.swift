import Testing
@testable import Inference

/// The real model against llama.cpp's reference ids and logits.
@Suite(.serialized) struct ForwardTests {
    @Test func referenceCasesLoaded() {
        #expect(ReferenceCase.all.count == 4, "reference json at \(ReferenceCase.referencePath)")
    }

    @Test(arguments: ReferenceCase.all)
    func firstStepTop5WithinHalfALogit(_ ref: ReferenceCase) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let (_, logits) = try greedy(backend, prompt: ref.promptIDs, steps: 0)
        for (id, expected) in zip(ref.top5IDs, ref.top5Logits) {
            #expect(abs(logits[id] - expected) < 0.5, "\(ref.name): token \(id) logit \(logits[id]) vs llama.cpp \(expected)")
        }
    }

    @Test(arguments: ReferenceCase.all)
    func greedyMatchesUpToFirstFragileStep(_ ref: ReferenceCase) throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let n = ref.robustPrefix
        let (ids, _) = try greedy(backend, prompt: ref.promptIDs, steps: n)
        #expect(Array(ids.prefix(n)) == Array(ref.greedyIDs.prefix(n)), "\(ref.name): first \(n) steps")
        if ["count", "arith", "system_count"].contains(ref.name) {
            #expect(n == ref.greedyIDs.count, "\(ref.name) should be robust end to end")
        }
    }
}
