#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels
import Synchronization

/// The CPU backend: int8 SIMD kernels (C, dispatched at run time) or the Swift reference kernels,
/// a persistent thread pool, and one half-precision KV cache per sequence.
public final class CPUBackend: InferenceBackend, @unchecked Sendable {
    /// Which kernels run the matrix products.
    public enum Kernels: Sendable {
        /// C int8 kernels (AVX-512 VNNI, AVX2 or scalar, chosen at run time) on repacked weights.
        case native
        /// The plain-Swift reference kernels on the GGUF layout (slower; for tests and comparison).
        case swift
    }

    public let model: LlamaModel
    public var config: ModelConfig { model.config }
    public let name: String
    /// Tokens one internal pass holds at most (longer prompts run in several passes).
    public let maxPassTokens: Int
    let forward: LlamaForward
    /// Serializes passes (the protocol asks callers to, this makes overlap harmless).
    let passLock = Mutex(())
    private let lock = Mutex(())
    nonisolated(unsafe) private var caches: [Int: KVCache] = [:]
    nonisolated(unsafe) private var nextID = 0

    /// Prepares `model` to run on `threads` threads (default: the number of online CPUs).
    public init(model: LlamaModel, threads: Int? = nil, kernels: Kernels = .native, maxPassTokens: Int = 256) {
        let n = max(1, threads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let pool = ThreadPool(threadCount: n)
        let native = kernels == .native
        self.model = model
        self.maxPassTokens = max(1, maxPassTokens)
        self.forward = LlamaForward(model: model, prepared: PreparedModel(model, native: native), pool: pool, native: native)
        let isa = ["scalar", "avx2", "avx512-vnni"][Int(wk_isa_current())]
        self.name = "cpu (\(pool.width) threads, \(native ? isa : "swift reference") kernels)"
    }

    public func makeSequence(capacity: Int) throws(InferenceError) -> SequenceID {
        guard capacity >= 1, capacity <= config.contextLength else {
            throw InferenceError(.contextOverflow, "sequence capacity \(capacity) must be within 1...\(config.contextLength) (the model's context length)")
        }
        let cache = try KVCache(config: config, capacity: capacity)
        return lock.withLock { _ in
            nextID += 1
            caches[nextID] = cache
            return SequenceID(rawValue: nextID)
        }
    }

    public func releaseSequence(_ sequence: SequenceID) {
        lock.withLock { _ in _ = caches.removeValue(forKey: sequence.rawValue) }
    }

    public func length(of sequence: SequenceID) throws(InferenceError) -> Int {
        try cacheFor(sequence).length
    }

    public func truncate(_ sequence: SequenceID, to length: Int) throws(InferenceError) {
        let cache = try cacheFor(sequence)
        guard length >= 0, length <= cache.length else {
            throw InferenceError(.invalidArgument, "cannot truncate \(sequence) of length \(cache.length) to \(length)")
        }
        cache.length = length
    }

    /// KV cache bytes in use across all sequences.
    public var kvBytesInUse: Int { lock.withLock { _ in caches.values.reduce(0) { $0 + $1.bytesInUse } } }

    func cacheFor(_ sequence: SequenceID) throws(InferenceError) -> KVCache {
        guard let c = lock.withLock({ _ in caches[sequence.rawValue] }) else {
            throw InferenceError(.invalidSequence, "unknown sequence \(sequence)")
        }
        return c
    }
}
