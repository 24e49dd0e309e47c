/// How the next token is chosen. The defaults are llama.cpp server's (also what its OpenAI-compatible
/// endpoint uses for fields a request leaves out): temperature 0.8, top-k 40, top-p 0.95, min-p 0.05.
public struct SamplingParameters: Equatable, Sendable {
    /// Logits are divided by this before the final draw; 0 (or less) means greedy argmax.
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens; 0 keeps all.
    public var topK: Int = 40
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.
    public var topP: Float = 0.95
    /// Drop tokens less likely than minP times the most likely one; 0 keeps all.
    public var minP: Float = 0.05
    /// Divide positive (multiply negative) logits of recently seen tokens by this; 1 is off.
    public var repetitionPenalty: Float = 1.0
    /// Subtract this times a recent token's count from its logit (OpenAI `frequency_penalty`); 0 is off.
    public var frequencyPenalty: Float = 0
    /// Subtract this from the logit of any recent token (OpenAI `presence_penalty`); 0 is off.
    public var presencePenalty: Float = 0
    /// How many of the most recent tokens (prompt included) the penalties look at.
    public var penaltyWindow: Int = 64
    /// The PRNG seed; the same seed, logits and parameters always draw the same tokens.
    public var seed: UInt64 = 0

    /// The defaults.
    public init() {}

    /// Greedy decoding: always the most likely token.
    public static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }

    /// Checks every value is in range; the error names the parameter.
    public func validate() throws(InferenceError) {
        func check(_ ok: Bool, _ what: String) throws(InferenceError) {
            if !ok { throw InferenceError(.invalidArgument, what) }
        }
        try check(temperature.isFinite && temperature >= 0, "temperature must be a finite number >= 0 (got \(temperature))")
        try check(topK >= 0, "top_k must be >= 0 (got \(topK))")
        try check(topP > 0 && topP <= 1, "top_p must be in (0, 1] (got \(topP))")
        try check(minP >= 0 && minP <= 1, "min_p must be in [0, 1] (got \(minP))")
        try check(repetitionPenalty.isFinite && repetitionPenalty > 0, "repetition_penalty must be > 0 (got \(repetitionPenalty))")
        try check(frequencyPenalty.isFinite && abs(frequencyPenalty) <= 2, "frequency_penalty must be in [-2, 2] (got \(frequencyPenalty))")
        try check(presencePenalty.isFinite && abs(presencePenalty) <= 2, "presence_penalty must be in [-2, 2] (got \(presencePenalty))")
        try check(penaltyWindow >= 0, "penalty window must be >= 0 (got \(penaltyWindow))")
    }
}
