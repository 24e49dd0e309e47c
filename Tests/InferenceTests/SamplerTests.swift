import Foundation
import Testing
import TestSupport
@testable import Inference

@Suite("Sampler: greedy, temperature, top-k, top-p, min-p, penalties, seed")
struct SamplerTests {
    /// Draws `n` tokens and returns how often each id came up.
    static func frequencies(_ logits: [Float], _ parameters: SamplingParameters, n: Int = 20_000) throws -> [Double] {
        var sampler = try Sampler(parameters)
        var counts = [Double](repeating: 0, count: logits.count)
        for _ in 0..<n { counts[Int(sampler.sample(logits))] += 1 }
        return counts.map { $0 / Double(n) }
    }

    static func parameters(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                           seed: UInt64 = 7) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.seed = seed
        return p
    }

    static let probabilities: [Double] = [0.5, 0.3, 0.15, 0.05]
    static let logits: [Float] = probabilities.map { Float(log($0)) + 3 }

    struct DistributionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var parameters: SamplingParameters
        var expected: [Double]
        var testDescription: String { name }
    }

    static let distributions: [DistributionCase] = [
        .init(name: "temperature 1, no filters", parameters: parameters(), expected: probabilities),
        .init(name: "top-k 2", parameters: parameters(topK: 2), expected: [0.625, 0.375, 0, 0]),
        .init(name: "top-p 0.7 keeps the first two (0.5 + 0.3 >= 0.7)", parameters: parameters(topP: 0.7),
              expected: [0.625, 0.375, 0, 0]),
        .init(name: "top-p 0.85 keeps three", parameters: parameters(topP: 0.85), expected: [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]),
        .init(name: "min-p 0.35 drops p < 0.175", parameters: parameters(minP: 0.35), expected: [0.625, 0.375, 0, 0]),
        .init(name: "temperature 0.5 squares the probabilities", parameters: parameters(temperature: 0.5),
              expected: [0.25, 0.09, 0.0225, 0.0025].map { $0 / 0.365 }),
        .init(name: "temperature 2 flattens them", parameters: parameters(temperature: 2),
              expected: probabilities.map { $0.squareRoot() / probabilities.map { $0.squareRoot() }.reduce(0, +) }),
        .init(name: "top-k 3 then top-p 0.9 (over the top-k set) keeps three", parameters: parameters(topK: 3, topP: 0.9),
              expected: [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]),
    ]

    @Test("draw frequencies match the filtered, tempered distribution (20,000 draws, fixed seed)",
          arguments: distributions)
    func distribution(_ item: DistributionCase) throws {
        let observed = try Self.frequencies(Self.logits, item.parameters)
        for (o, e) in zip(observed, item.expected) {
            #expect(abs(o - e) < 0.015, "observed \(observed), expected \(item.expected)")
            if e == 0 { #expect(o == 0, "a filtered token was drawn") }
        }
    }

    @Test("greedy takes the argmax, lowest id on ties, and ignores the seed")
    func greedy() throws {
        for seed in [0, 1, 99] as [UInt64] {
            var parameters = SamplingParameters.greedy
            parameters.seed = seed
            var sampler = try Sampler(parameters)
            #expect(sampler.sample([0.1, 2.5, -1, 2.4]) == 1)
            #expect(sampler.sample([3, 1, 3]) == 0)
            #expect(sampler.sample([-.infinity, .nan, -5]) == 2)
        }
    }

    @Test("the vectorized argmax equals a scalar scan: ties, NaNs, infinities, every length and position")
    func argmaxMatchesScalarScan() {
        var rng = SeededGenerator(seed: 7)
        func scalar(_ v: [Float]) -> Int32 {
            var best = 0, value = -Float.infinity
            for i in v.indices where v[i] > value { best = i; value = v[i] }
            return Int32(best)
        }
        for n in [1, 15, 16, 17, 31, 33, 100, 49_152] {
            for _ in 0..<20 {
                var v = (0..<n).map { _ in Float(Int.random(in: -4...4, using: &rng)) }  // many ties
                for _ in 0..<(n / 8 + 1) { v[Int.random(in: 0..<n, using: &rng)] = [.nan, -.infinity, .infinity].randomElement(using: &rng)! }
                #expect(v.withUnsafeBufferPointer { Sampler.argmax($0) } == scalar(v), "n \(n)")
            }
        }
        #expect([Float](repeating: .nan, count: 40).withUnsafeBufferPointer { Sampler.argmax($0) } == 0)
        #expect([Float](repeating: -.infinity, count: 40).withUnsafeBufferPointer { Sampler.argmax($0) } == 0)
    }

    @Test("the same seed replays the same draws; another seed does not")
    func seeds() throws {
        let logits = (0..<1000).map { Float(sin(Double($0))) * 3 }
        func run(_ seed: UInt64) throws -> [Int32] {
            var sampler = try Sampler(Self.parameters(topK: 0, seed: seed))
            return (0..<200).map { _ in sampler.sample(logits) }
        }
        #expect(try run(42) == run(42))
        #expect(try run(42) != run(43))
    }

    @Test("xoshiro256** with splitmix64 seeding matches the reference C output")
    func generatorVectors() {
        // Reference: xoshiro256starstar.c with s[] filled by splitmix64.c from x = 0.
        var generator = Xoshiro256StarStar(seed: 0)
        let first = (0..<3).map { _ in generator.next() }
        #expect(first == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        var unit = Xoshiro256StarStar(seed: 5)
        for _ in 0..<1000 { let u = unit.nextUnit(); #expect(u >= 0 && u < 1) }
    }

    @Test("repetition, frequency and presence penalties push seen tokens down")
    func penalties() throws {
        var parameters = SamplingParameters.greedy
        parameters.repetitionPenalty = 1.5
        var sampler = try Sampler(parameters)
        // 3 / 1.5 = 2 < 2.5: the seen leader loses; a negative logit is multiplied, so it sinks further.
        #expect(sampler.sample([3, 2.5, -1], history: [0]) == 1)
        #expect(sampler.sample([3, 2.5, -1], history: [2]) == 0)
        // Only the window counts.
        parameters.penaltyWindow = 2
        sampler = try Sampler(parameters)
        #expect(sampler.sample([3, 2.5, -1], history: [0, 2, 2]) == 0)
        var frequency = SamplingParameters.greedy
        frequency.frequencyPenalty = 0.4
        sampler = try Sampler(frequency)
        #expect(sampler.sample([3, 2.5], history: [0]) == 0)
        #expect(sampler.sample([3, 2.5], history: [0, 0]) == 1)
        var presence = SamplingParameters.greedy
        presence.presencePenalty = 1
        sampler = try Sampler(presence)
        #expect(sampler.sample([3, 2.5], history: [0]) == 1)
    }

    static let invalid: [(String, @Sendable (inout SamplingParameters) -> Void)] = [
        ("temperature", { $0.temperature = -1 }), ("temperature", { $0.temperature = .nan }),
        ("top_k", { $0.topK = -1 }), ("top_p", { $0.topP = 0 }), ("top_p", { $0.topP = 1.5 }),
        ("min_p", { $0.minP = -0.1 }), ("repetition_penalty", { $0.repetitionPenalty = 0 }),
        ("frequency_penalty", { $0.frequencyPenalty = 3 }), ("presence_penalty", { $0.presencePenalty = -2.5 }),
    ]

    @Test("out-of-range parameters are refused, naming the parameter")
    func validation() {
        for (name, change) in Self.invalid {
            var parameters = SamplingParameters()
            change(&parameters)
            do {
                _ = try Sampler(parameters)
                Issue.record("\(name) accepted")
            } catch {
                #expect(error.message.hasPrefix(name), "\(error.message)")
            }
        }
    }

    @Test("full-vocabulary sampling with the default filters stays inside the filtered set")
    func vocabularySized() throws {
        var generator = Xoshiro256StarStar(seed: 3)
        let logits = (0..<49_152).map { _ in Float(generator.nextUnit() * 10) }
        var sampler = try Sampler(SamplingParameters())
        let top40 = Set((0..<logits.count).sorted { logits[$0] > logits[$1] }.prefix(40).map(Int32.init))
        for _ in 0..<200 { #expect(top40.contains(sampler.sample(logits))) }
    }

    @Test("top-p over the whole vocabulary keeps exactly the nucleus, peaked or flat", arguments: [0.3, 3.0])
    func vocabularyNucleus(spread: Double) throws {
        var generator = Xoshiro256StarStar(seed: 8)
        let logits = (0..<49_152).map { _ in Float(-log(generator.nextUnit() + 1e-12) * spread) }
        // Brute force: sort everything, keep the shortest prefix reaching 0.9.
        let order = (0..<logits.count).sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        let maxLogit = Double(logits[order[0]])
        let total = logits.reduce(0.0) { $0 + exp(Double($1) - maxLogit) }
        var cumulative = 0.0
        var nucleus = Set<Int32>()
        for index in order {
            nucleus.insert(Int32(index))
            cumulative += exp(Double(logits[index]) - maxLogit) / total
            if cumulative >= 0.9 { break }
        }
        var sampler = try Sampler(Self.parameters(topK: 0, topP: 0.9, seed: 4))
        var seen = Set<Int32>()
        for _ in 0..<300 {
            let token = sampler.sample(logits)
            #expect(nucleus.contains(token))
            seen.insert(token)
        }
        #expect(seen.count > 1)
    }
}
