/// Where one pool worker runs: the CPU, or one GPU by its CUDA ordinal.
public enum WorkerDevice: Sendable, Hashable, CustomStringConvertible {
    case cpu
    case gpu(Int)

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .gpu(let ordinal): return "cuda:\(ordinal)"
        }
    }
}

/// Makes one pool worker's backend on its device with its KV budget (bytes) and block size (positions).
public typealias PoolBackendFactory = @Sendable (_ device: WorkerDevice, _ kvMemoryBytes: Int, _ blockSize: Int) throws(InferenceError) -> any InferenceBackend

/// Which devices a pool may use (the model-serving file's `pool.devices`).
public enum PoolDevices: Sendable, Equatable {
    /// Every GPU discovery reports, or the CPU when there is none.
    case auto
    /// The CPU only (no driver is even opened).
    case cpu
    /// These GPU ordinals, one worker each.
    case gpus([Int])
}

/// What GPU discovery found: the usable GPUs, or why there are none (no driver, no device, a driver
/// too old, a build without the CUDA backend...).
public enum GPUDiscovery: Sendable, Equatable {
    /// One GPU: its CUDA ordinal and a description for logs.
    public struct GPU: Sendable, Equatable {
        public var ordinal: Int
        public var name: String
        public init(ordinal: Int, name: String) { self.ordinal = ordinal; self.name = name }
    }

    case available([GPU])
    case unavailable(reason: String)
}

/// The devices a pool's workers run on, decided once when the pool is made: one worker per chosen
/// GPU, or CPU workers (`workers.min` ... `workers.max` of them) when no GPU is chosen or usable.
public struct DevicePlacement: Sendable, Equatable {
    /// The GPUs, one worker each; empty when the pool runs on the CPU.
    public var gpus: [Int]
    /// An info-level message for the operator (why the pool runs on the CPU), or nil.
    public var notice: String?

    public init(gpus: [Int], notice: String? = nil) {
        self.gpus = gpus
        self.notice = notice
    }

    /// A pool on the CPU.
    public static let cpu = DevicePlacement(gpus: [])

    /// Whether the workers run on GPUs.
    public var usesGPUs: Bool { !gpus.isEmpty }

    /// Decides where the pool runs. `discover` is called only when a GPU may be used. No usable GPU
    /// is never an error (the pool runs on the CPU and `notice` says why, for "auto" and for an
    /// explicit list alike: the same configuration must serve on a laptop and on a GPU host); an
    /// ordinal missing on a machine that has GPUs is a configuration error (`source` says where it
    /// was written).
    public static func resolve(_ devices: PoolDevices, source: String? = nil,
                               discover: () -> GPUDiscovery) throws(InferenceError) -> DevicePlacement {
        if devices == .cpu { return .cpu }
        switch discover() {
        case .unavailable(let reason):
            return DevicePlacement(gpus: [], notice: "no GPU for the inference pool (\(reason)); it runs on the CPU")
        case .available(let found) where found.isEmpty:
            return DevicePlacement(gpus: [], notice: "no GPU for the inference pool (the driver reports none); it runs on the CPU")
        case .available(let found):
            let present = found.map(\.ordinal)
            guard case .gpus(let wanted) = devices else { return DevicePlacement(gpus: present) }
            if let missing = wanted.first(where: { !present.contains($0) }) {
                let at = source.map { "\($0): " } ?? ""
                throw InferenceError(.invalidConfig, """
                    \(at)GPU \(missing) does not exist: this machine has \(Self.list(found))
                    """)
            }
            return DevicePlacement(gpus: wanted)
        }
    }

    /// `GPU 0 (NVIDIA H200), GPU 1 (...)`.
    static func list(_ gpus: [GPUDiscovery.GPU]) -> String {
        gpus.map { "GPU \($0.ordinal) (\($0.name))" }.joined(separator: ", ")
    }
}
