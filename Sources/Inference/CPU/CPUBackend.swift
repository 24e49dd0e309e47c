#if canImport(Glibc)
import Glibc
#endif
import CInferenceKernels
import Synchronization

/// The CPU backend: int8 SIMD kernels (C, dispatched at run time) or the Swift reference kernels,
/// a persistent thread pool, and one paged half-precision KV arena.
public final class CPUBackend: InferenceBackend, @unchecked Sendable {
    /// Which kernels run the matrix products.
    public enum Kernels: Sendable {
        /// C int8 kernels (AVX-512 VNNI, AVX2 or scalar, chosen at run time) on repacked weights.
        case native
        /// The plain-Swift reference kernels on the GGUF layout (slower; for tests and comparison).
        case swift
    }

    /// Positions per KV block unless asked otherwise (vLLM's default).
    public static let defaultBlockSize = 16

    public let model: LlamaModel
    public var config: ModelConfig { model.config }
    public let name: String
    /// Tokens one internal pass holds at most (longer batches run in several passes).
    public let maxPassTokens: Int
    public var kvLayout: KVLayout { arena.layout }
    let arena: KVArena
    let forward: LlamaForward
    /// Serializes passes (the protocol asks callers to, this makes overlap harmless).
    let passLock = Mutex(())

    /// Prepares `model` to run on `threads` threads (default: the number of online CPUs) with a KV arena of
    /// `kvMemoryBytes` (default: one sequence of the full context) cut into blocks of `blockSize` positions.
    public init(model: LlamaModel, threads: Int? = nil, kernels: Kernels = .native, maxPassTokens: Int = 256,
                kvMemoryBytes: Int? = nil, blockSize: Int = CPUBackend.defaultBlockSize) throws(InferenceError) {
        let c = model.config
        let perBlock = c.kvValuesPerToken * 2 * max(1, blockSize)
        let fullContext = (c.contextLength + max(1, blockSize) - 1) / max(1, blockSize)
        let blocks = kvMemoryBytes.map { $0 / perBlock } ?? fullContext
        guard blocks >= 1 else {
            throw InferenceError(.invalidArgument, "a KV memory of \(kvMemoryBytes ?? 0) bytes holds no block of \(blockSize) positions (\(perBlock) bytes each)")
        }
        arena = try KVArena(config: c, blockSize: blockSize, blockCount: blocks)
        let n = max(1, threads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let pool = ThreadPool(threadCount: n)
        let native = kernels == .native
        self.model = model
        self.maxPassTokens = max(1, maxPassTokens)
        self.forward = LlamaForward(model: model, prepared: PreparedModel(model, native: native), pool: pool, arena: arena, native: native)
        let isa = ["scalar", "avx2", "avx512-vnni"][Int(wk_isa_current())]
        self.name = "cpu (\(pool.width) threads, \(native ? isa : "swift reference") kernels)"
    }
}
