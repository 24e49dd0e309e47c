import Testing
@testable import Inference

/// The backend protocol's contract on the real model: batching, paging, chunking, kernels and errors.
@Suite(.serialized) struct BackendTests {
    static let robust = ReferenceCase.all.filter { ["count", "arith", "system_count"].contains($0.name) }

    /// Greedy steps for several sequences at once: one evaluate per step holding every live sequence,
    /// with the prompts prefilled together in the first call.
    func batchedGreedy(_ backend: CPUBackend, prompts: [[Int32]], steps: Int) throws -> [[Int32]] {
        let tables = try prompts.map { try TestBlocks.take(backend.kvLayout.blocks(for: $0.count + steps + 1)) }
        defer { tables.forEach(TestBlocks.give) }
        var logits = try backend.evaluate(zip(tables, prompts).map { BatchEntry(blocks: $0, start: 0, tokens: $1) })
        var lengths = prompts.map(\.count)
        var out = [[Int32]](repeating: [], count: prompts.count)
        for _ in 0..<steps {
            var inputs: [BatchEntry] = [], owners: [Int] = []
            for i in prompts.indices where out[i].last != 2 {
                let next = argmax(logits[i])
                out[i].append(next)
                if next != 2 { inputs.append(BatchEntry(blocks: tables[i], start: lengths[i], tokens: [next])); owners.append(i) }
            }
            if inputs.isEmpty { break }
            let step = try backend.evaluate(inputs)
            for (row, i) in owners.enumerated() { logits[i] = step[row]; lengths[i] += 1 }
        }
        return out
    }

    @Test func batchedEvaluationGivesTheSameTokensAsOneAtATime() throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let prompts = Self.robust.map(\.promptIDs) + [ReferenceCase.all[0].promptIDs]
        let batched = try batchedGreedy(backend, prompts: prompts, steps: 12)
        for (i, prompt) in prompts.enumerated() {
            let single = try greedy(backend, prompt: prompt, steps: 12).ids
            #expect(batched[i] == single, "sequence \(i)")
        }
    }

    /// The block size and where the blocks lie in the arena change nothing: a table in reverse order,
    /// one-position blocks and blocks longer than the prompt all give the reference tokens.
    @Test(arguments: [1, 7, 16, 64])
    func anyBlockSizeAndTableOrderGiveTheSameTokens(blockSize: Int) throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let ref = try #require(Self.robust.first { $0.name == "arith" })
        let backend = try CPUBackend(model: model, threads: 2, kernels: .native, kvMemoryBytes: 4096 * model.config.kvValuesPerToken * 2,
                                     blockSize: blockSize)
        let needed = backend.kvLayout.blocks(for: ref.promptIDs.count + 9)
        let reversed = (0..<Int32(needed)).map { Int32(backend.kvLayout.blockCount - 1) - $0 }
        let (ids, first) = try greedy(backend, prompt: ref.promptIDs, steps: 8, blocks: reversed)
        let (expectedIDs, expectedFirst) = try greedy(try #require(SharedModel.native), prompt: ref.promptIDs, steps: 8)
        #expect(ids == expectedIDs)
        #expect(zip(first, expectedFirst).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    /// Two sequences that share their first full blocks (a common prefix computed once) continue exactly
    /// as if each had computed the prefix itself: what the pool's prefix cache relies on.
    @Test func sharedPrefixBlocksGiveTheSameTokens() throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let a = try #require(Self.robust.first { $0.name == "system_count" }).promptIDs
        let block = backend.kvLayout.blockSize
        let prefix = Array(a.prefix(a.count / block * block))
        try #require(prefix.count >= block, "the prompt is shorter than a block")
        let shared = try TestBlocks.take(prefix.count / block)
        defer { TestBlocks.give(shared) }
        _ = try backend.evaluate([BatchEntry(blocks: shared, start: 0, tokens: prefix, wantsLogits: false)])
        let rest = try TestBlocks.take(backend.kvLayout.blocks(for: a.count + 9) - shared.count)
        defer { TestBlocks.give(rest) }
        let table = shared + rest
        var logits = try backend.evaluate([BatchEntry(blocks: table, start: prefix.count, tokens: Array(a[prefix.count...]))])[0]
        var ids: [Int32] = []
        for step in 0..<8 {
            ids.append(argmax(logits))
            logits = try backend.evaluate([BatchEntry(blocks: table, start: a.count + step, tokens: [ids.last!])])[0]
        }
        #expect(ids == (try greedy(backend, prompt: a, steps: 8).ids))
    }

    @Test func promptSplitAcrossPassesMatchesOnePass() throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let ref = try #require(Self.robust.first)
        let small = try CPUBackend(model: model, threads: 2, kernels: .native, maxPassTokens: 7, kvMemoryBytes: 1 << 24)
        let table = (0..<Int32(small.kvLayout.blocks(for: ref.promptIDs.count + 9))).map { $0 }
        let (ids, first) = try greedy(small, prompt: ref.promptIDs, steps: 8, blocks: table)
        let (expectedIDs, expectedFirst) = try greedy(try #require(SharedModel.native), prompt: ref.promptIDs, steps: 8)
        #expect(ids == expectedIDs)
        #expect(zip(first, expectedFirst).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    @Test func swiftReferenceKernelsAgreeWithNativeKernels() throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let ref = try #require(Self.robust.first { $0.name == "arith" })
        let swift = try CPUBackend(model: model, threads: 2, kernels: .swift, kvMemoryBytes: 1 << 24)
        let table = (0..<Int32(swift.kvLayout.blocks(for: ref.promptIDs.count + 5))).map { $0 }
        let (ids, first) = try greedy(swift, prompt: ref.promptIDs, steps: 4, blocks: table)
        #expect(ids == Array(ref.greedyIDs.prefix(4)))
        // Kernel variants differ only in float summation order, yet int8 re-quantization between layers
        // turns that into ~0.1-logit differences (scalar vs AVX2 vs AVX-512 differ from each other as much):
        // hold the Swift kernels to the same reference bar as the native ones.
        for (id, expected) in zip(ref.top5IDs, ref.top5Logits) {
            #expect(abs(first[id] - expected) < 0.5, "swift kernels: token \(id) logit \(first[id]) vs llama.cpp \(expected)")
        }
    }

    @Test func errorsNameTheEntryAndLeaveBlocksUnchanged() throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let ref = try #require(Self.robust.first)
        let blocks = try TestBlocks.take(2)
        defer { TestBlocks.give(blocks) }
        let context = backend.config.contextLength, arena = Int32(backend.kvLayout.blockCount)
        let good = BatchEntry(blocks: blocks, start: 0, tokens: [1])
        let cases: [([BatchEntry], InferenceError.Code, String)] = [
            ([BatchEntry(blocks: [blocks[0]], start: 0, tokens: Array(repeating: 1, count: 17))], .invalidArgument, "1 blocks cannot hold 17"),
            ([good, BatchEntry(blocks: blocks, start: 0, tokens: [49152])], .invalidToken, "entry 1"),
            ([BatchEntry(blocks: blocks, start: 0, tokens: [-1])], .invalidToken, "entry 0"),
            ([BatchEntry(blocks: [arena], start: 0, tokens: [1])], .invalidArgument, "outside the arena"),
            ([BatchEntry(blocks: [-1], start: 0, tokens: [1])], .invalidArgument, "outside the arena"),
            ([BatchEntry(blocks: blocks, start: 0, tokens: [])], .invalidArgument, "no tokens"),
            ([BatchEntry(blocks: blocks, start: -1, tokens: [1])], .invalidArgument, "negative start"),
            ([BatchEntry(blocks: blocks, start: context, tokens: [1])], .contextOverflow, "context length"),
        ]
        // What the blocks hold before: the reference prompt's first 16 positions.
        let prefix = Array(ref.promptIDs.prefix(16))
        let before = try backend.evaluate([BatchEntry(blocks: blocks, start: 0, tokens: prefix)])[0]
        for (batch, code, words) in cases {
            let error = #expect(throws: InferenceError.self) { try backend.evaluate(batch) }
            #expect(error?.code == code, "\(error?.description ?? "")")
            #expect(error?.message.contains(words) == true, "\(error?.description ?? "")")
        }
        // The failed batches wrote nothing: the next position sees the same cache as before.
        let next = try backend.evaluate([BatchEntry(blocks: blocks, start: 16, tokens: [argmax(before)])])[0]
        let fresh = try greedy(backend, prompt: prefix + [argmax(before)], steps: 0).first
        #expect(zip(next, fresh).allSatisfy { abs($0 - $1) < 1e-3 })
        #expect(throws: InferenceError.self) { try CPUBackend(model: backend.model, threads: 1, kvMemoryBytes: 10) }
    }

    @Test func logitsOnlyWhereAsked() throws {
        let backend = try #require(SharedModel.native, "model missing at \(ModelFixture.path)")
        let a = try TestBlocks.take(1), b = try TestBlocks.take(1)
        defer { TestBlocks.give(a); TestBlocks.give(b) }
        let rows = try backend.evaluate([BatchEntry(blocks: a, start: 0, tokens: [1, 2, 3], wantsLogits: false),
                                         BatchEntry(blocks: b, start: 0, tokens: [1, 2, 3])])
        #expect(rows.count == 2 && rows[0].isEmpty && rows[1].count == backend.config.vocabularySize)
    }
}
