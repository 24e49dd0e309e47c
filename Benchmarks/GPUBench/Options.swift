// GPUBench's command line: what to measure, where the model and the output are. Parsed without
// touching the GPU, so a mistake is reported (exit 64) before any device is opened.
import Inference

/// What one GPUBench run does.
struct Options: Equatable {
    enum Mode: Equatable {
        /// Decode, batched decode, TTFT, bandwidth and launch estimates, with and without graph replay.
        case benchmark
        /// GPUBackend against CPUBackend on the greedy reference cases in `reference`.
        case parity(reference: String)
    }

    var mode: Mode = .benchmark
    var model: String?
    var device = 0
    var out = "gpubench.json"
    var streams = [1, 8, 64, 256]
    var decodeSteps = 128
    var promptTokens = 512
    var repeats = 5
    var launchProbe = true

    static let usage = """
        usage: GPUBench [--model PATH] [--device N] [--out FILE] [--streams 1,8,64,256] [--decode-steps 128]
                        [--prompt-tokens 512] [--repeats 5] [--no-launch-probe]
               GPUBench --parity --reference FILE [--model PATH] [--device N] [--out FILE]
        Measures the CUDA backend on one GPU (Scripts/gpu-check runs it). Exit status: 0 done, 1 a
        device error or a parity mismatch, 2 no usable GPU (the reason on stderr and in --out), 64 usage.
        """

    /// A usage mistake, reported with the usage text.
    struct UsageError: Error, Equatable {
        var message: String
    }

    /// Reads the arguments after the program name.
    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var options = Options()
        var reference: String?
        var parity = false
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> String {
            guard let next = rest.popFirst(), !next.hasPrefix("--") else { throw UsageError(message: "\(flag) needs a value") }
            return next
        }
        func number(_ flag: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let n = Int(text), range.contains(n) else { throw UsageError(message: "\(flag) \(text): expected a whole number in \(range)") }
            return n
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--model": options.model = try value(flag)
            case "--device": options.device = try number(flag, 0...255)
            case "--out": options.out = try value(flag)
            case "--streams":
                let text = try value(flag)
                let list = text.split(separator: ",").compactMap { Int($0) }
                guard !list.isEmpty, list.count == text.split(separator: ",").count, list.allSatisfy({ (1...4096).contains($0) }) else {
                    throw UsageError(message: "--streams \(text): expected a comma-separated list of counts in 1...4096")
                }
                options.streams = list
            case "--decode-steps": options.decodeSteps = try number(flag, 1...100_000)
            case "--prompt-tokens": options.promptTokens = try number(flag, 1...8192)
            case "--repeats": options.repeats = try number(flag, 1...1000)
            case "--no-launch-probe": options.launchProbe = false
            case "--parity": parity = true
            case "--reference": reference = try value(flag)
            default: throw UsageError(message: "unknown option \(flag)")
            }
        }
        if parity {
            guard let reference else { throw UsageError(message: "--parity needs --reference FILE") }
            options.mode = .parity(reference: reference)
        } else if reference != nil {
            throw UsageError(message: "--reference is only for --parity")
        }
        return options
    }

    /// The model file: `--model`, else the model store's default path.
    var modelPath: String? { model ?? ModelLocation.defaultModelPath() }
}
