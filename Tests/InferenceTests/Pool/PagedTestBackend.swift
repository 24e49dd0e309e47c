import Foundation
@testable import Inference

/// A deterministic paged backend that really stores what the pool writes through each block table
/// (the token id at each block slot) and computes each entry's logits from the sequence it reads back
/// through its table: a wrong table, a wrongly shared block or a lost position changes the output.
///
/// The next token is a letter chosen by a hash of the whole sequence read back, so the expected output
/// of any prompt is known without a model (``PagedTestBackend.reference``). Steps can be gated: with
/// `gated` set, each `evaluate` waits until the test releases a step.
final class PagedTestBackend: InferenceBackend, @unchecked Sendable {
    /// One entry of one recorded step.
    struct Entry: Equatable {
        var blocks: [Int32]
        var start: Int
        var tokens: [Int32]
        var wantsLogits: Bool
    }

    let config: ModelConfig
    let name = "paged-test"
    let kvLayout: KVLayout
    /// Letter tokens the backend answers with (never an end-of-generation token).
    let alphabet: [Int32]
    /// A prompt containing this token makes `evaluate` throw (an injected backend error).
    var failToken: Int32?

    private let condition = NSCondition()
    private var arena: [Int32]
    private var gated: Bool
    private var released = 0
    private var waiting = false
    private(set) var steps: [[Entry]] = []
    private let onDeinit: (@Sendable () -> Void)?

    init(blockSize: Int, blockCount: Int, context: Int = 512, alphabet: [Int32], gated: Bool = false,
         failToken: Int32? = nil, onDeinit: (@Sendable () -> Void)? = nil) {
        config = ModelConfig(layerCount: 1, embeddingLength: 64, feedForwardLength: 64, headCount: 1, kvHeadCount: 1,
                             vocabularySize: 49152, contextLength: context, ropeTheta: 10000, rmsEpsilon: 1e-5)
        kvLayout = KVLayout(blockSize: blockSize, blockCount: blockCount, bytesPerBlock: 1024)
        arena = Array(repeating: -1, count: blockSize * blockCount)
        self.alphabet = alphabet
        self.gated = gated
        self.failToken = failToken
        self.onDeinit = onDeinit
    }

    deinit { onDeinit?() }

    /// The next token after `sequence`: a letter picked by an FNV-1a hash of every token.
    static func nextToken(after sequence: some Collection<Int32>, alphabet: [Int32]) -> Int32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for token in sequence {
            hash = (hash ^ UInt64(UInt32(bitPattern: token))) &* 0x100_0000_01b3
        }
        return alphabet[Int(hash % UInt64(alphabet.count))]
    }

    /// What a correct, unbatched run generates for `prompt` (greedy, no stop strings).
    static func reference(_ prompt: [Int32], maxTokens: Int, alphabet: [Int32]) -> [Int32] {
        var sequence = prompt
        for _ in 0..<maxTokens { sequence.append(nextToken(after: sequence, alphabet: alphabet)) }
        return Array(sequence.dropFirst(prompt.count))
    }

    func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        condition.lock()
        defer { condition.unlock() }
        while gated && released == 0 {
            waiting = true
            condition.broadcast()
            condition.wait()
        }
        waiting = false
        if gated { released -= 1 }
        condition.broadcast()
        try validate(batch)
        steps.append(batch.map { Entry(blocks: $0.blocks, start: $0.start, tokens: $0.tokens, wantsLogits: $0.wantsLogits) })
        let size = kvLayout.blockSize
        for entry in batch {
            for (offset, token) in entry.tokens.enumerated() {
                let position = entry.start + offset
                arena[Int(entry.blocks[position / size]) * size + position % size] = token
            }
        }
        return batch.map { entry in
            guard entry.wantsLogits else { return [] }
            let length = entry.start + entry.tokens.count
            let sequence = (0..<length).map { arena[Int(entry.blocks[$0 / size]) * size + $0 % size] }
            var logits = [Float](repeating: 0, count: config.vocabularySize)
            logits[Int(Self.nextToken(after: sequence, alphabet: alphabet))] = 10
            return logits
        }
    }

    /// The protocol's checks, all before anything is written.
    private func validate(_ batch: [BatchEntry]) throws(InferenceError) {
        var written = Set<Int>()
        for (index, entry) in batch.enumerated() {
            let end = entry.start + entry.tokens.count
            guard !entry.tokens.isEmpty, entry.start >= 0, end <= config.contextLength,
                  entry.blocks.count >= kvLayout.blocks(for: end),
                  entry.blocks.allSatisfy({ $0 >= 0 && Int($0) < kvLayout.blockCount }) else {
                throw InferenceError(.invalidArgument, "batch entry \(index) is malformed")
            }
            if let failToken, entry.tokens.contains(failToken) {
                throw InferenceError(.invalidArgument, "batch entry \(index) holds the injected failure token")
            }
            for position in entry.start..<end {
                let slot = Int(entry.blocks[position / kvLayout.blockSize]) * kvLayout.blockSize + position % kvLayout.blockSize
                guard written.insert(slot).inserted else {
                    throw InferenceError(.invalidArgument, "batch entries write block slot \(slot) twice")
                }
            }
        }
    }

    // MARK: - Test controls

    /// Lets `count` more steps run (gated backends).
    func release(_ count: Int = 1) {
        condition.lock()
        released += count
        condition.broadcast()
        condition.unlock()
    }

    /// Stops gating: every step runs at once.
    func openGate() {
        condition.lock()
        gated = false
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until a step is blocked at the gate with none released (true), or the timeout passes.
    @discardableResult
    func waitUntilBlocked(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !(waiting && released == 0) {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// The steps evaluated so far.
    var recordedSteps: [[Entry]] {
        condition.lock()
        defer { condition.unlock() }
        return steps
    }
}

/// Shared pieces of the pool tests.
enum PoolFixture {
    /// Byte tokens of the letters a-z (the real tokenizer's).
    static func letters(_ tokenizer: Tokenizer) -> [Int32] {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).map { tokenizer.byteTokens[Int($0)] }
    }

    /// A prompt of `count` letter tokens, different per `seed`.
    static func prompt(_ count: Int, seed: Int, _ tokenizer: Tokenizer) -> [Int32] {
        let letters = letters(tokenizer)
        return (0..<count).map { letters[($0 * 7 + seed * 13 + $0 * $0 * seed) % letters.count] }
    }

    /// Waits until `condition` holds, polling, up to a generous timeout.
    static func eventually(timeout: TimeInterval = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(1000)
        }
        return condition()
    }

    /// All events of a ticket up to its end.
    static func drain(_ ticket: PoolTicket, timeout: Duration = .seconds(120)) -> (text: String, end: PoolEvent?) {
        var text = ""
        while let event = ticket.next(timeout: timeout) {
            switch event {
            case .text(let piece): text += piece
            case .finished, .failed: return (text, event)
            }
        }
        return (text, nil)
    }
}

extension PoolEvent {
    var completion: PoolCompletion? {
        if case .finished(let completion) = self { return completion }
        return nil
    }
    var error: InferenceError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
