import Foundation
import Testing
@testable import Inference

/// Makes the pool's test backends: holds worker starts until the test allows them (so requests can
/// be queued before the first step), counts backends made and released.
final class TestBackendFactory: @unchecked Sendable {
    private let condition = NSCondition()
    private var startAllowed: Bool
    private var backends: [PagedTestBackend] = []
    private var releasedCount = 0
    let gated: Bool
    let context: Int
    let failToken: Int32?
    let alphabet: [Int32]
    /// Whether the factory keeps its backends alive (tests that check release set it false).
    let keepsBackends: Bool

    init(alphabet: [Int32], startAllowed: Bool = true, gated: Bool = false, context: Int = 512,
         failToken: Int32? = nil, keepsBackends: Bool = true) {
        self.alphabet = alphabet
        self.startAllowed = startAllowed
        self.gated = gated
        self.context = context
        self.failToken = failToken
        self.keepsBackends = keepsBackends
    }

    func make(kvMemoryBytes: Int, blockSize: Int) throws(InferenceError) -> any InferenceBackend {
        condition.lock()
        while !startAllowed { condition.wait() }
        condition.unlock()
        let backend = PagedTestBackend(blockSize: blockSize, blockCount: kvMemoryBytes / 1024, context: context,
                                       alphabet: alphabet, gated: gated, failToken: failToken) { [weak self] in
            self?.noteReleased()
        }
        condition.lock()
        madeTotal += 1
        // Without keeping it, the pool holds the last reference and its release is observable.
        if keepsBackends { backends.append(backend) }
        weakBackends.append(WeakBackend(backend: backend))
        condition.broadcast()
        condition.unlock()
        return backend
    }
    private var madeTotal = 0
    private struct WeakBackend { weak var backend: PagedTestBackend? }
    private var weakBackends: [WeakBackend] = []

    /// Opens the gates of every backend still alive; returns how many.
    func openAllGates() -> Int {
        condition.lock()
        let alive = weakBackends.compactMap(\.backend)
        condition.unlock()
        for backend in alive { backend.openGate() }
        return alive.count
    }

    private func noteReleased() {
        condition.lock()
        releasedCount += 1
        condition.broadcast()
        condition.unlock()
    }

    func allowStart() {
        condition.lock()
        startAllowed = true
        condition.broadcast()
        condition.unlock()
    }

    var made: [PagedTestBackend] {
        condition.lock()
        defer { condition.unlock() }
        return backends
    }
    var madeCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return madeTotal
    }
    var released: Int {
        condition.lock()
        defer { condition.unlock() }
        return releasedCount
    }

    /// The first backend, once a worker made it.
    func first(timeout: TimeInterval = 60) throws -> PagedTestBackend {
        #expect(PoolFixture.eventually(timeout: timeout) { !made.isEmpty }, "no worker started")
        return try #require(made.first)
    }
}

/// A pool over test backends with small, explicit sizes.
struct PoolHarness {
    let tokenizer: Tokenizer
    let factory: TestBackendFactory
    let pool: InferencePool
    let letters: [Int32]

    init(blockSize: Int = 4, blocks: Int = 256, maxBatchTokens: Int = 64, maxRunning: Int = 8,
         minWorkers: Int = 1, maxWorkers: Int = 1, startAllowed: Bool = true, gated: Bool = false,
         prefixCaching: Bool = true, failToken: Int32? = nil, keepsBackends: Bool = true, overlap: Bool = false,
         adjust: (inout PoolConfiguration) -> Void = { _ in }) throws {
        tokenizer = try TextFixture.tokenizer()
        letters = PoolFixture.letters(tokenizer)
        let factory = TestBackendFactory(alphabet: letters, startAllowed: startAllowed, gated: gated,
                                         failToken: failToken, keepsBackends: keepsBackends)
        self.factory = factory
        var configuration = PoolConfiguration()
        configuration.blockSize = blockSize
        configuration.kvMemoryBytes = blocks * 1024
        configuration.maxBatchTokens = maxBatchTokens
        configuration.maxRunningSequences = maxRunning
        configuration.minWorkers = minWorkers
        configuration.maxWorkers = maxWorkers
        configuration.prefixCaching = prefixCaching
        adjust(&configuration)
        // With `overlap`, the worker overlaps output processing (the backend forwarded, asking for it).
        pool = InferencePool(configuration: configuration, tokenizer: tokenizer) { kv, size throws(InferenceError) in
            let backend = try factory.make(kvMemoryBytes: kv, blockSize: size)
            return overlap ? ForwardingBackend(backend, overlaps: true) : backend
        }
    }

    func request(_ agent: String, prompt: [Int32], maxTokens: Int = 8, priority: PoolPriority = .interactive,
                 weight: Double = 1, deadline: ContinuousClock.Instant? = nil) -> PoolRequest {
        PoolRequest(agent: agent, weight: weight, priority: priority,
                    generation: GenerationRequest(prompt: prompt, maxTokens: maxTokens), deadline: deadline)
    }

    func reference(_ prompt: [Int32], maxTokens: Int) -> [Int32] {
        PagedTestBackend.reference(prompt, maxTokens: maxTokens, alphabet: letters)
    }

    func prompt(_ count: Int, seed: Int) -> [Int32] { PoolFixture.prompt(count, seed: seed, tokenizer) }

    /// The order in which prompts were first evaluated (an entry starting at position 0).
    static func admissionOrder(_ steps: [[PagedTestBackend.Entry]], prompts: [[Int32]]) -> [Int] {
        var order: [Int] = []
        for step in steps {
            for entry in step where entry.start == 0 {
                if let index = prompts.firstIndex(where: { Array($0.prefix(entry.tokens.count)) == entry.tokens }),
                   !order.contains(index) {
                    order.append(index)
                }
            }
        }
        return order
    }
}
