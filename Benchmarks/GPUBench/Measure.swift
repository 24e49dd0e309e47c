// The measurements, written against any InferenceBackend: single-stream and batched greedy decode
// (each stream its own block table, one evaluate per step holding one token per stream, the token
// picked on the device), and time to first token for one long prompt.
import BenchSupport
import Inference

/// One decode measurement at `streams` concurrent streams.
struct DecodeResult {
    var streams: Int
    var steps: Int
    /// Wall seconds of each timed step (host clock around a call that returns the picked tokens).
    var stepSeconds: [Double]
    /// Kernels per step (direct launches plus those inside replayed graphs), over the timed steps.
    var launchesPerStep: Double
    /// Graph replays per step (0 without graphs).
    var replaysPerStep: Double
    /// Mean cached positions per stream during the timed steps (for the KV bytes each step reads).
    var meanContext: Double

    var seconds: Double { stepSeconds.reduce(0, +) }
    /// Aggregate generated tokens per second.
    var tokensPerSecond: Double { Double(streams * steps) / seconds }
    var medianStepSeconds: Double { median(stepSeconds) }
}

enum Measure {
    /// Prompt tokens of stream `stream` (distinct per stream, ordinary ids of the vocabulary).
    static func prompt(_ count: Int, stream: Int) -> [Int32] {
        (0..<count).map { Int32(1000 + (($0 + 1) * 7919 + stream * 104_729) % 40000) }
    }

    /// Stream `stream`'s blocks: its own consecutive run of the arena.
    static func blockTable(_ layout: KVLayout, stream: Int, positions: Int) -> [Int32] {
        let n = layout.blocks(for: positions)
        return (0..<n).map { Int32(stream * n + $0) }
    }

    /// Positions the arena must hold for `streams` streams of `positions` each.
    static func arenaPositions(streams: Int, positions: Int, blockSize: Int) -> Int {
        streams * ((positions + blockSize - 1) / blockSize) * blockSize
    }

    /// Prefills `streams` short prompts (`maxPass` tokens per call at most), runs two untimed steps
    /// (graph capture happens there), then `steps` timed decode steps of the whole batch.
    static func decode(_ backend: any InferenceBackend, device: CountingDevice?, streams: Int, promptLength: Int,
                       steps: Int, maxPass: Int) throws(InferenceError) -> DecodeResult {
        let warmup = 2
        let positions = promptLength + warmup + steps + 1
        let tables = (0..<streams).map { blockTable(backend.kvLayout, stream: $0, positions: positions) }
        var next: [Int32] = []
        var start = 0
        let perCall = max(1, maxPass / promptLength)
        while start < streams {
            let range = start..<min(streams, start + perCall)
            let entries = range.map { BatchEntry(blocks: tables[$0], start: 0, tokens: prompt(promptLength, stream: $0)) }
            next += try backend.evaluate(entries, choosing: Array(repeating: .greedy, count: entries.count))
            start = range.upperBound
        }
        var context = promptLength
        func step() throws(InferenceError) {
            let entries = (0..<streams).map { BatchEntry(blocks: tables[$0], start: context, tokens: [next[$0]]) }
            next = try backend.evaluate(entries, choosing: Array(repeating: .greedy, count: streams))
            context += 1
        }
        for _ in 0..<warmup { try step() }
        let before = device?.snapshot
        let firstContext = context
        var stepSeconds: [Double] = []
        for _ in 0..<steps {
            let t0 = now()
            try step()
            stepSeconds.append(now() - t0)
        }
        let after = device?.snapshot
        let launches = Double((after?.launches ?? 0) - (before?.launches ?? 0) + (after?.replayedLaunches ?? 0) - (before?.replayedLaunches ?? 0))
        let replays = Double((after?.replays ?? 0) - (before?.replays ?? 0))
        return DecodeResult(streams: streams, steps: steps, stepSeconds: stepSeconds, launchesPerStep: launches / Double(steps),
                            replaysPerStep: replays / Double(steps), meanContext: Double(firstContext + context) / 2)
    }

    /// Seconds from submitting a `length`-token prompt to holding its first generated token, once
    /// per repeat (a fresh block table each time: nothing cached), after one untimed run.
    static func timeToFirstToken(_ backend: any InferenceBackend, length: Int, repeats: Int) throws(InferenceError) -> [Double] {
        var times: [Double] = []
        for run in 0...repeats {
            let table = blockTable(backend.kvLayout, stream: run % 2, positions: length + 1)
            let entry = BatchEntry(blocks: table, start: 0, tokens: prompt(length, stream: 1000 + run))
            let t0 = now()
            _ = try backend.evaluate([entry], choosing: [.greedy])
            if run > 0 { times.append(now() - t0) }
        }
        return times
    }
}
