import Synchronization
import Foundation
@testable import Inference

/// The llama.cpp reference cases in shared/testdata/smollm2-reference.json.
struct ReferenceCase: Sendable, CustomStringConvertible {
    let name: String
    let promptIDs: [Int32]
    let greedyIDs: [Int32]
    let endsWithEOS: Bool
    let top5IDs: [Int]
    let top5Logits: [Float]
    let margins: [Float]
    var description: String { name }

    /// Steps that must match: up to (not including) the first step whose recorded margin is below 0.5.
    var robustPrefix: Int { margins.firstIndex { $0 < 0.5 } ?? greedyIDs.count }

    static let all: [ReferenceCase] = load()

    static var referencePath: String {
        if let p = ProcessInfo.processInfo.environment["WARDEN_REFERENCE_JSON"] { return p }
        // Tests/InferenceTests/ → repo root → /work/shared (worktrees) or the repo's own copy.
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("../../../../shared/testdata/smollm2-reference.json").path,
            here.appendingPathComponent("../../shared/testdata/smollm2-reference.json").path,
            "/work/shared/testdata/smollm2-reference.json",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    private static func load() -> [ReferenceCase] {
        guard let data = FileManager.default.contents(atPath: referencePath),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else { return [] }
        return cases.compactMap { c in
            guard let name = c["name"] as? String, let prompt = c["prompt_token_ids"] as? [Int],
                  let greedy = c["greedy_token_ids"] as? [Int], let first = c["first_step"] as? [String: Any],
                  let ids = first["top5_ids"] as? [Int], let logits = first["top5_logits"] as? [Double],
                  let margins = c["step_margins_top1_minus_top2"] as? [Double] else { return nil }
            return ReferenceCase(name: name, promptIDs: prompt.map(Int32.init), greedyIDs: greedy.map(Int32.init),
                                 endsWithEOS: c["ends_with_eos"] as? Bool ?? false, top5IDs: ids,
                                 top5Logits: logits.map(Float.init), margins: margins.map(Float.init))
        }
    }
}

/// One model and backend per test process (loading and repacking is the slow part). The backend's arena
/// holds four full contexts; suites run in parallel, so sequences take their blocks from `TestBlocks`.
enum SharedModel {
    static let model: LlamaModel? = try? LlamaModel(path: ModelFixture.path)
    static let native: CPUBackend? = model.flatMap {
        try? CPUBackend(model: $0, threads: 2, kernels: .native, kvMemoryBytes: 4 * $0.config.contextLength * $0.config.kvValuesPerToken * 2)
    }
}

/// Hands out disjoint blocks of `SharedModel.native`'s arena to concurrently running tests.
enum TestBlocks {
    private static let free = Mutex<[Int32]>(SharedModel.native.map { (0..<Int32($0.kvLayout.blockCount)).reversed() } ?? [])

    /// `count` blocks, in no particular order (a sequence's table need not be contiguous).
    static func take(_ count: Int) throws -> [Int32] {
        try free.withLock { free in
            guard free.count >= count else { throw InferenceError(.invalidArgument, "test arena exhausted") }
            defer { free.removeLast(count) }
            return Array(free.suffix(count))
        }
    }

    static func give(_ blocks: [Int32]) { free.withLock { $0.append(contentsOf: blocks) } }
}

func argmax(_ v: [Float]) -> Int32 {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return Int32(best)
}

/// Greedy decoding of `steps` tokens after `prompt` on one sequence; blocks from `TestBlocks` unless a
/// table is given.
func greedy(_ backend: CPUBackend, prompt: [Int32], steps: Int, blocks given: [Int32]? = nil) throws -> (ids: [Int32], first: [Float]) {
    let blocks = try given ?? TestBlocks.take(backend.kvLayout.blocks(for: prompt.count + steps + 1))
    defer { if given == nil { TestBlocks.give(blocks) } }
    var logits = try backend.evaluate([BatchEntry(blocks: blocks, start: 0, tokens: prompt)])[0]
    let first = logits
    var ids: [Int32] = [], length = prompt.count
    for _ in 0..<steps {
        let next = argmax(logits)
        ids.append(next)
        if next == 2 { break }
        logits = try backend.evaluate([BatchEntry(blocks: blocks, start: length, tokens: [next])])[0]
        length += 1
    }
    return (ids, first)
}
