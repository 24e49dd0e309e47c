import Glibc

/// Chooses the next token from a row of logits, in llama.cpp's order: penalties, then (unless greedy)
/// top-k, top-p, min-p, temperature, and a draw from the seeded PRNG.
///
/// One sampler per sequence: it owns the PRNG state, so a sequence's draws do not depend on how many
/// other sequences share a batch.
public struct Sampler: Sendable {
    /// The parameters this sampler was made with.
    public let parameters: SamplingParameters
    var random: Xoshiro256StarStar
    var ids: [Int32] = []
    var values: [Float] = []

    /// Makes a sampler; out-of-range parameters are an error naming the parameter.
    public init(_ parameters: SamplingParameters) throws(InferenceError) {
        try parameters.validate()
        self.parameters = parameters
        random = Xoshiro256StarStar(seed: parameters.seed)
    }

    /// Picks a token from `logits` (one per vocabulary entry), given the tokens so far (prompt and
    /// generated) for the penalties.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: ArraySlice<Int32> = []) -> Int32 {
        guard var penalized = penalizedCopy(logits, history) else { return choose(logits) }
        return penalized.withUnsafeMutableBufferPointer { choose(UnsafeBufferPointer($0)) }
    }

    /// `[Float]` convenience for tests and callers without a buffer.
    public mutating func sample(_ logits: [Float], history: ArraySlice<Int32> = []) -> Int32 {
        logits.withUnsafeBufferPointer { sample($0, history: history) }
    }

    /// Whether a backend could pick the token itself (``TokenChoice``): greedy or temperature only,
    /// with no top-k, top-p, min-p or penalty that needs the whole row on the host.
    public var isPlain: Bool {
        let p = parameters
        let penalized = p.penaltyWindow > 0 && (p.repetitionPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0)
        guard !penalized else { return false }
        return p.temperature <= 0 || (p.topK == 0 && p.topP >= 1 && p.minP <= 0)
    }

    /// The next token's choice for a backend to make, when the sampler is plain (nil otherwise). A
    /// draw takes its uniform number from this sampler's generator, exactly one per token as
    /// `sample` does, so a sequence's draws do not depend on where the choice is made.
    public mutating func nextChoice() -> TokenChoice? {
        guard isPlain else { return nil }
        guard parameters.temperature > 0 else { return .greedy }
        let uniform = Float(random.nextUnit())
        // Rounding to Float may reach 1.0, which no running sum exceeds.
        return .sample(temperature: parameters.temperature, uniform: uniform < 1 ? uniform : Float(1).nextDown)
    }

    private mutating func choose(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if parameters.temperature <= 0 { return Self.argmax(logits) }
        gatherCandidates(logits)
        sortAndCut()
        return draw()
    }

    /// A copy of the logits with the penalties applied to the tokens in the window (llama.cpp
    /// `llama_sampler_penalties`), or nil when no penalty is on.
    private func penalizedCopy(_ logits: UnsafeBufferPointer<Float>, _ history: ArraySlice<Int32>) -> [Float]? {
        let p = parameters
        guard p.penaltyWindow > 0, !history.isEmpty,
              p.repetitionPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0 else { return nil }
        var counts: [Int32: Int] = [:]
        for id in history.suffix(p.penaltyWindow) where id >= 0 && Int(id) < logits.count { counts[id, default: 0] += 1 }
        var copy = Array(logits)
        for (id, count) in counts {
            var logit = copy[Int(id)]
            logit = logit <= 0 ? logit * p.repetitionPenalty : logit / p.repetitionPenalty
            copy[Int(id)] = logit - (Float(count) * p.frequencyPenalty + p.presencePenalty)
        }
        return copy
    }

    /// The most likely token; ties go to the lowest id; NaN never wins. Two vectorized passes (the
    /// largest value, then its first position) instead of one branchy scalar loop: the pool samples
    /// every running sequence's 49,152 logits on each step.
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        guard let base = logits.baseAddress, logits.count > 0 else { return 0 }
        let n = logits.count, wide = n / 16 * 16
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i < wide {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
            // NaN compares false, so it never replaces a lane.
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        var top = lanes.max()
        for j in wide..<n where base[j] > top { top = base[j] }
        guard top > -.infinity else { return 0 }
        i = 0
        let target = SIMD16<Float>(repeating: top)
        while i < wide {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
            if any(v .== target) { break }
            i += 16
        }
        for j in i..<n where base[j] == top { return Int32(j) }
        return 0
    }

    /// Candidates after top-k (a size-k min-heap over the logits), or all finite logits.
    private mutating func gatherCandidates(_ logits: UnsafeBufferPointer<Float>) {
        let k = parameters.topK > 0 ? min(parameters.topK, logits.count) : logits.count
        if k == logits.count {
            ids.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            for i in 0..<logits.count where !logits[i].isNaN && logits[i] != -.infinity {
                ids.append(Int32(i))
                values.append(logits[i])
            }
            return
        }
        var heap = CandidateHeap(capacity: k)
        for i in 0..<logits.count where !logits[i].isNaN && logits[i] != -.infinity {
            heap.offer(Int32(i), logits[i])
        }
        (ids, values) = heap.contents()
    }
}
