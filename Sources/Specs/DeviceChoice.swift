/// Which compute devices the local inference pool uses (`pool.devices` in the model-serving file).
///
///     "devices": "auto"     every GPU the driver reports; the CPU when there is none (the default)
///     "devices": "cpu"      the CPU only, even where GPUs are present
///     "devices": [0, 1]     these GPUs (CUDA ordinals), one pool worker each
///
/// A machine without a usable GPU runs the pool on the CPU in every case (an info-level message says
/// why); naming an ordinal a machine with GPUs does not have is an error when the pool starts.
public enum DeviceChoice: Sendable, Equatable {
    case auto
    case cpu
    case gpus([Int])

    /// GPU ordinals accepted in files: CUDA numbers devices from 0, and no host has hundreds.
    static let ordinalRange: ClosedRange<Int64> = 0...255
    static let words = ["auto", "cpu"]

    /// Reads `"auto"`, `"cpu"` or a non-empty array of distinct ordinals.
    static func read(_ reader: JSONReader) throws(SpecError) -> DeviceChoice {
        if case .string = reader.value {
            let word = try reader.text()
            switch word {
            case "auto": return .auto
            case "cpu": return .cpu
            default:
                let hint = Spelling.suggestion(for: word, among: words).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw reader.specError("unknown device choice \"\(word)\"\(hint): expected \"auto\", \"cpu\" or a list of GPU ordinals such as [0, 1]")
            }
        }
        guard case .array = reader.value else {
            throw reader.specError("expected \"auto\", \"cpu\" or a list of GPU ordinals such as [0, 1], found \(reader.value.kindDescription)",
                                   code: .schema)
        }
        return .gpus(try readOrdinals(reader))
    }

    /// A non-empty array of distinct GPU ordinals (a repeated one is an error at the repeat).
    static func readOrdinals(_ reader: JSONReader) throws(SpecError) -> [Int] {
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        guard !elements.isEmpty else { throw reader.specError("a device list needs at least one GPU ordinal (use \"cpu\" for none)") }
        var ordinals: [Int] = []
        for element in elements {
            let ordinal = try element.count(in: ordinalRange)
            if ordinals.contains(ordinal) { throw element.specError("GPU \(ordinal) is listed twice") }
            ordinals.append(ordinal)
        }
        return ordinals
    }

    /// How `warden policy check` and messages show it.
    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .gpus(let ordinals): return "GPUs " + ordinals.map(String.init).joined(separator: ", ")
        }
    }
}
