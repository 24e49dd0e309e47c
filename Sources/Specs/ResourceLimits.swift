/// Resource limits: the policy sets them, a spec may only tighten them.
public struct ResourceLimits: Equatable, Sendable {
    /// Memory limit of the run's cgroup, in bytes.
    public var memoryBytes: UInt64
    /// Maximum number of processes and threads (cgroup pids.max, and RLIMIT_NPROC where useful).
    public var pids: Int
    /// CPU quota in thousandths of a CPU (1000 = one full CPU).
    public var cpuMillis: Int
    /// Wall-clock limit of a run, in milliseconds.
    public var wallMilliseconds: Int64
    /// RLIMIT_NOFILE.
    public var openFiles: Int
    /// RLIMIT_FSIZE, in bytes.
    public var fileSizeBytes: UInt64

    public init(memoryBytes: UInt64, pids: Int, cpuMillis: Int, wallMilliseconds: Int64, openFiles: Int, fileSizeBytes: UInt64) {
        self.memoryBytes = memoryBytes; self.pids = pids; self.cpuMillis = cpuMillis
        self.wallMilliseconds = wallMilliseconds; self.openFiles = openFiles; self.fileSizeBytes = fileSizeBytes
    }

    /// The JSON keys of a limits object.
    static let keys = ["memory", "pids", "cpus", "wallSeconds", "openFiles", "fileSize"]

    /// Accepted ranges. Zero is never a meaningful limit; the upper bounds are what the kernel or
    /// common sense allows (PID_MAX_LIMIT, fs.nr_open's default ceiling, a week of wall time).
    enum Bounds {
        static let memory: ClosedRange<UInt64> = (4 << 20)...(1 << 40)
        static let pids: ClosedRange<Int64> = 1...4_194_304
        static let cpuMillis: ClosedRange<Int64> = 10...1_024_000
        static let wallMilliseconds: ClosedRange<Int64> = 1...604_800_000
        static let openFiles: ClosedRange<Int64> = 4...1_048_576
        static let fileSize: ClosedRange<UInt64> = 1...(1 << 50)
    }
}

/// The limits a spec asks for; each present one must be at most the policy's.
public struct LimitOverrides: Equatable, Sendable {
    public var memoryBytes: UInt64?
    public var pids: Int?
    public var cpuMillis: Int?
    public var wallMilliseconds: Int64?
    public var openFiles: Int?
    public var fileSizeBytes: UInt64?

    public init() {}
}

extension ResourceLimits {
    /// Reads a complete limits object (a policy's): every key required.
    static func read(_ reader: JSONReader) throws(SpecError) -> ResourceLimits {
        let overrides = try LimitOverrides.read(reader)
        guard let memory = overrides.memoryBytes, let pids = overrides.pids, let cpu = overrides.cpuMillis,
              let wall = overrides.wallMilliseconds, let files = overrides.openFiles, let size = overrides.fileSizeBytes else {
            let object = try? reader.anyObject()
            let missing = keys.filter { object?.optional($0) == nil }
            throw reader.specError("a policy must set every limit; missing: \(missing.joined(separator: ", "))", code: .schema)
        }
        return ResourceLimits(memoryBytes: memory, pids: pids, cpuMillis: cpu, wallMilliseconds: wall,
                              openFiles: files, fileSizeBytes: size)
    }

    /// These limits tightened by `overrides`; an override looser than the limit is an error at its position.
    func tightened(by overrides: LimitOverrides, origins: [String: JSONReader], policyFile: String) throws(SpecError) -> ResourceLimits {
        var result = self
        func check<T: Comparable>(_ key: String, _ asked: T?, _ allowed: T, _ show: (T) -> String) throws(SpecError) -> T {
            guard let asked else { return allowed }
            guard asked <= allowed else {
                let message = "\(show(asked)) loosens the policy's limit of \(show(allowed)) (\(policyFile)); a spec may only tighten limits"
                throw origins[key]?.specError(message, code: .loosensPolicy) ?? SpecError(code: .loosensPolicy, file: policyFile, message: message)
            }
            return asked
        }
        result.memoryBytes = try check("memory", overrides.memoryBytes, memoryBytes, SizeText.format)
        result.pids = try check("pids", overrides.pids, pids) { "\($0) pids" }
        result.cpuMillis = try check("cpus", overrides.cpuMillis, cpuMillis) { JSONReader.decimal(Int64($0), 3) + " CPUs" }
        result.wallMilliseconds = try check("wallSeconds", overrides.wallMilliseconds, wallMilliseconds) { JSONReader.decimal($0, 3) + " s" }
        result.openFiles = try check("openFiles", overrides.openFiles, openFiles) { "\($0) open files" }
        result.fileSizeBytes = try check("fileSize", overrides.fileSizeBytes, fileSizeBytes, SizeText.format)
        return result
    }
}

extension LimitOverrides {
    /// Reads a limits object where every key is optional (a spec's).
    static func read(_ reader: JSONReader) throws(SpecError) -> LimitOverrides {
        let object: JSONObjectReader
        do { object = try reader.object(keys: ResourceLimits.keys) } catch { throw SpecError(error) }
        typealias Bounds = ResourceLimits.Bounds
        var result = LimitOverrides()
        result.memoryBytes = try object.optional("memory")?.byteSize(in: Bounds.memory)
        result.pids = try object.optional("pids")?.count(in: Bounds.pids)
        if let cpus = try object.optional("cpus")?.fixedPoint(scale: 3, in: Bounds.cpuMillis, unit: "CPUs") { result.cpuMillis = Int(cpus) }
        result.wallMilliseconds = try object.optional("wallSeconds")?.fixedPoint(scale: 3, in: Bounds.wallMilliseconds, unit: "seconds")
        result.openFiles = try object.optional("openFiles")?.count(in: Bounds.openFiles)
        result.fileSizeBytes = try object.optional("fileSize")?.byteSize(in: Bounds.fileSize)
        return result
    }
}
