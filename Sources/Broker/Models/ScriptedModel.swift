import Glibc
import Inference
import Synchronization

/// A backend that makes the real tokenizer, chat template, sampler and generation loop produce a
/// scripted answer: each step's logits put the script's next token far above every other (so any
/// sampling settings pick it), then end-of-generation. Tests and the overhead benchmark use it
/// where the real model would be slow or nondeterministic.
public final class ScriptedBackend: InferenceBackend {
    public let config: ModelConfig
    public let name = "scripted"
    private let script = Mutex<(tokens: [Int32], next: Int)>(([], 0))
    /// Time each evaluation takes, to stand in for a slow model (0: instant).
    public let stepNanoseconds: UInt64

    public init(vocabularySize: Int, contextLength: Int = 8192, stepNanoseconds: UInt64 = 0) {
        self.stepNanoseconds = stepNanoseconds
        config = ModelConfig(layerCount: 1, embeddingLength: 64, feedForwardLength: 64, headCount: 1, kvHeadCount: 1,
                             vocabularySize: vocabularySize, contextLength: contextLength, ropeTheta: 10000, rmsEpsilon: 1e-5)
    }

    /// The tokens the next generation produces, in order (the last one repeats if it runs out).
    public func setScript(_ tokens: [Int32]) { script.withLock { $0 = (tokens, 0) } }

    /// Blocks of 16 positions, enough for 64 full contexts (nothing is stored in them).
    public var kvLayout: KVLayout { KVLayout(blockSize: 16, blockCount: 64 * config.contextLength / 16, bytesPerBlock: 0) }

    public func evaluate(_ batch: [BatchEntry]) throws(InferenceError) -> [[Float]] {
        let token: Int32 = script.withLock { s in
            guard let last = s.tokens.last else { return 0 }
            let token = s.next < s.tokens.count ? s.tokens[s.next] : last
            s.next += 1
            return token
        }
        if stepNanoseconds > 0 {
            var pause = timespec(tv_sec: Int(stepNanoseconds / 1_000_000_000), tv_nsec: Int(stepNanoseconds % 1_000_000_000))
            var left = timespec()
            while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        }
        var logits = [Float](repeating: 0, count: config.vocabularySize)
        if token >= 0, Int(token) < logits.count { logits[Int(token)] = 60 }
        return batch.map { $0.wantsLogits ? logits : [] }
    }
}

/// Builds scripted providers: the answer to each conversation comes from `respond`.
public enum ScriptedModel {
    /// The answer function: given the conversation (template roles, tools folded in), what to say.
    public typealias Respond = @Sendable ([ChatMessage]) -> String

    /// A provider with the given tokenizer and template.
    public static func provider(tokenizer: Tokenizer, template: ChatTemplate, stepNanoseconds: UInt64 = 0,
                                respond: @escaping Respond) -> TokenModelProvider {
        let backend = ScriptedBackend(vocabularySize: tokenizer.vocabularySize, stepNanoseconds: stepNanoseconds)
        return TokenModelProvider(providerName: "scripted", tokenizer: tokenizer, template: template, backend: backend) { prompt in
            let eos = tokenizer.endOfGenerationIDs.contains(tokenizer.eosID) ? tokenizer.eosID : (tokenizer.endOfGenerationIDs.min() ?? tokenizer.eosID)
            backend.setScript(tokenizer.encode(respond(prompt.messages)) + [eos])
        }
    }

    /// A provider with the tokenizer and template of the GGUF file at `modelPath` (its weights are not loaded).
    public static func provider(modelPath: String, stepNanoseconds: UInt64 = 0,
                                respond: @escaping Respond) throws(BrokerError) -> TokenModelProvider {
        do throws(InferenceError) {
            let file = try GGUFFile(path: modelPath)
            return provider(tokenizer: try Tokenizer(gguf: file.metadata), template: try ChatTemplate(gguf: file.metadata),
                            stepNanoseconds: stepNanoseconds, respond: respond)
        } catch {
            throw BrokerError(.internalError, "cannot load the tokenizer of \(modelPath): \(error)")
        }
    }
}

/// A provider that does no model work at all: it answers instantly with a fixed text (or echoes
/// the last message), with token counts estimated at four bytes a token. What the overhead
/// benchmark measures the broker against.
public struct InstantModelProvider: ModelProvider {
    public let providerName = "instant"
    public let contextLength: Int
    /// The fixed answer; nil echoes the last message's content.
    public let reply: String?

    public init(reply: String? = nil, contextLength: Int = 1 << 20) {
        self.reply = reply; self.contextLength = contextLength
    }

    public func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt {
        let bytes = messages.reduce(0) { $0 + $1.content.utf8.count + 4 }
        return ModelPrompt(messages: messages, tokens: [], tokenCount: (bytes + 3) / 4)
    }

    public func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                         onText: (String) -> Void) throws(BrokerError) -> ModelCompletion {
        var text = reply ?? prompt.messages.last?.content ?? ""
        var finish = ModelCompletion.Finish.stop
        let limit = settings.maxTokens * 4
        if text.utf8.count > limit {
            text = String(decoding: text.utf8.prefix(limit), as: UTF8.self)
            finish = .length
        }
        if !text.isEmpty { onText(text) }
        return ModelCompletion(text: text, promptTokens: prompt.tokenCount,
                               completionTokens: max(1, (text.utf8.count + 3) / 4), finish: finish)
    }
}
