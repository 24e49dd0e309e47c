import Glibc
import Inference

/// `warden chat`: Chats with the embedded model, streaming the reply.
enum ChatCommand: WardenCommand {
    static let name = "chat"
    static let summary = "Chats with the embedded model, streaming the reply."
    static let usage = """
        usage: warden chat PROMPT [--model PATH] [--max-tokens N] [--temperature T] [--seed S] [--system TEXT]

          PROMPT            the user message
          --model PATH      a GGUF model (default: the embedded SmolLM2 in the models directory)
          --max-tokens N    stop after N tokens (default 512)
          --temperature T   0 is greedy; default 0.8 (with top-k 40, top-p 0.95, min-p 0.05)
          --seed S          make sampling reproducible (default: random)
          --system TEXT     a system message (default: the model's own default system prompt)
        """

    struct Options {
        var prompt: String?
        var model: String?
        var maxTokens = 512
        var sampling = SamplingParameters()
        var seed: UInt64?
        var system: String?
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: Options
        do {
            options = try parse(arguments)
        } catch {
            printError("warden chat: \(error.description)\n\n\(usage)")
            return ExitCode.usage
        }
        guard let prompt = options.prompt else {
            printError("warden chat: missing the prompt\n\n\(usage)")
            return ExitCode.usage
        }
        var messages = [ChatMessage(role: "user", content: prompt)]
        if let system = options.system { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
        var sampling = options.sampling
        sampling.seed = options.seed ?? UInt64.random(in: .min ... .max)
        return InferenceRun.stream(modelPath: options.model, messages: messages, maxTokens: options.maxTokens,
                                   sampling: sampling, command: "warden chat")
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var options = Options()
        var cursor = ArgumentCursor(arguments)
        while let head = cursor.peek {
            if let v = try cursor.value(for: "--model") { options.model = v; continue }
            if let v = try cursor.value(for: "--system") { options.system = v; continue }
            if let v = try cursor.value(for: "--max-tokens") {
                guard let n = Int(v), n >= 1 else { throw UsageError("--max-tokens needs a whole number >= 1, not '\(v)'") }
                options.maxTokens = n
                continue
            }
            if let v = try cursor.value(for: "--temperature") {
                guard let t = Float(v), t.isFinite, t >= 0 else { throw UsageError("--temperature needs a number >= 0, not '\(v)'") }
                options.sampling.temperature = t
                continue
            }
            if let v = try cursor.value(for: "--seed") {
                guard let s = UInt64(v) else { throw UsageError("--seed needs a whole number >= 0, not '\(v)'") }
                options.seed = s
                continue
            }
            if head == "--" {
                let rest = cursor.rest()
                guard rest.count == 1, options.prompt == nil else { throw UsageError("expected one prompt after --") }
                options.prompt = rest[0]
                continue
            }
            if head.hasPrefix("-") && head.count > 1 { throw UsageError("unknown option '\(head)'") }
            guard options.prompt == nil else { throw UsageError("unexpected argument '\(head)' (quote the prompt)") }
            options.prompt = cursor.next()
        }
        return options
    }
}

/// Loading the model and running one generation, shared by `chat` and `generate`.
enum InferenceRun {
    /// The model path from `--model`, else the default; nil (after printing why) when neither exists.
    static func resolveModel(_ path: String?, command: String) -> String? {
        if let path { return path }
        guard let path = ModelLocation.defaultModelPath() else {
            printError("\(command): no models directory: pass --model PATH or set WARDEN_MODEL_DIR or HOME")
            return nil
        }
        return path
    }

    /// Exit status for an inference error: the request's fault (2) or a runtime failure (1).
    static func status(for error: InferenceError) -> Int32 {
        [.contextOverflow, .invalidArgument, .chatTemplate, .invalidToken].contains(error.code)
            ? ExitCode.usage : ExitCode.failure
    }

    /// Streams a reply to stdout as it is generated.
    static func stream(modelPath: String?, messages: [ChatMessage], maxTokens: Int, sampling: SamplingParameters,
                       command: String) -> Int32 {
        guard let path = resolveModel(modelPath, command: command) else { return ExitCode.usage }
        do {
            let model = try LoadedModel(path: path)
            let prompt = try model.promptTokens(for: messages)
            let request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling)
            _ = try model.generator.generate(request) { writeOut($0) }
            writeOut("\n")
            return ExitCode.success
        } catch {
            printError("\(command): \(error)")
            return status(for: error)
        }
    }

    /// Writes to stdout now (no buffering), so each token shows as it arrives.
    static func writeOut(_ text: String) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            written += n
        }
    }
}
