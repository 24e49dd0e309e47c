import Glibc
import Inference
import Specs

/// `warden generate`: Generates from an OpenAI-style chat request on stdin.
enum GenerateCommand: WardenCommand {
    static let name = "generate"
    static let summary = "Generates from an OpenAI-style chat request on stdin."
    static let usage = """
        usage: warden generate [--model PATH] < request.json

        Reads one OpenAI-style chat completion request as JSON on stdin:
          {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64, "temperature": 0, "seed": 1}
        Fields: messages (system/user/assistant/tool), max_tokens (default 512), temperature (0 = greedy,
        default 0.8), top_p (0.95), top_k (40), min_p (0.05), seed, stop (a string or up to 4),
        repetition_penalty, frequency_penalty, presence_penalty, model, n (1), user, stream (false).
        Unknown fields and wrong types are errors (exit 2) naming the JSON path.

        Prints one JSON object: text, token_ids, finish_reason (stop or length), stop (the stop string
        that ended it, if any), seed, model, and usage (prompt_tokens, completion_tokens, total_tokens).
        """

    static func run(_ arguments: [String]) -> Int32 {
        var cursor = ArgumentCursor(arguments)
        var modelPath: String?
        do throws(UsageError) {
            while !cursor.isEmpty {
                if let value = try cursor.value(for: "--model") { modelPath = value; continue }
                throw UsageError("unexpected argument '\(cursor.peek ?? "")'")
            }
        } catch {
            printError("warden generate: \(error.description)\n\n\(usage)")
            return ExitCode.usage
        }
        let request: ChatRequest
        do {
            request = try ChatRequest(json: readStandardInput(), file: "<stdin>")
        } catch {
            printError("warden generate: \(error)")
            return ExitCode.usage
        }
        guard !request.stream else {
            printError("warden generate: \"stream\": true is not supported here (warden chat streams)")
            return ExitCode.usage
        }
        guard let path = InferenceRun.resolveModel(modelPath, command: "warden generate") else { return ExitCode.usage }
        var sampling = request.sampling
        if !request.hasSeed { sampling.seed = UInt64.random(in: .min ... .max) }
        do {
            let model = try LoadedModel(path: path)
            let prompt = try model.promptTokens(for: request.messages)
            let generation = GenerationRequest(prompt: prompt, maxTokens: request.maxTokens ?? 512, sampling: sampling,
                                               stop: request.stop)
            let result = try model.generator.generate(generation)
            print(JSONWriter.compact(output(result, seed: sampling.seed, model: path)))
            return ExitCode.success
        } catch {
            printError("warden generate: \(error)")
            return InferenceRun.status(for: error)
        }
    }

    /// The response object.
    static func output(_ result: GenerationResult, seed: UInt64, model: String) -> JSONValue {
        let usage: JSONObject = [
            "prompt_tokens": .number(JSONNumber(result.promptTokens)),
            "completion_tokens": .number(JSONNumber(result.completionTokens)),
            "total_tokens": .number(JSONNumber(result.promptTokens + result.completionTokens)),
        ]
        var members: [(String, JSONValue)] = [
            ("text", .string(result.text)),
            ("token_ids", .array(result.tokens.map { .number(JSONNumber(Int($0))) })),
            ("finish_reason", .string(result.finishReason.rawValue)),
        ]
        if let stop = result.stopString { members.append(("stop", .string(stop))) }
        members += [
            ("seed", .number(JSONNumber(seed))),
            ("model", .string(String(model.split(separator: "/").last ?? Substring(model)))),
            ("usage", .object(usage)),
        ]
        return .object(JSONObject(members))
    }

    /// All of stdin.
    static func readStandardInput() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
