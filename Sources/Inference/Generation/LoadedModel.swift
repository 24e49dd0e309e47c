import Synchronization

/// A model ready to chat: the mapped GGUF file, its tokenizer and chat template, its weights, and a
/// backend holding them, made on first use. What `warden chat` and `warden generate` load once per
/// process; the pool makes one backend per worker from the same weights with `makeBackend`.
public final class LoadedModel: Sendable {
    /// The model file.
    public let path: String
    /// The parsed file (metadata, tensors).
    public let file: GGUFFile
    /// The tokenizer from the file's metadata.
    public let tokenizer: Tokenizer
    /// The chat template from the file's metadata.
    public let template: ChatTemplate
    /// The weights (mapped from the file).
    public let llama: LlamaModel
    private let threads: Int?
    private let made = Mutex<CPUBackend?>(nil)

    /// Loads `path`. A missing file's error says how to fetch the default model.
    public init(path: String, threads: Int? = nil) throws(InferenceError) {
        try ModelLocation.requireModel(at: path)
        self.path = path
        file = try GGUFFile(path: path)
        tokenizer = try Tokenizer(gguf: file.metadata)
        template = try ChatTemplate(gguf: file.metadata)
        llama = try LlamaModel(file: file)
        guard llama.config.vocabularySize == tokenizer.vocabularySize else {
            throw InferenceError(.shapeMismatch, """
                the tokenizer has \(tokenizer.vocabularySize) tokens but the model's embedding has \
                \(llama.config.vocabularySize) rows
                """, path: path)
        }
        self.threads = threads
    }

    /// The CPU backend for one sequence at a time (a full context of KV memory), made on first use.
    public var backend: any InferenceBackend {
        get throws(InferenceError) {
            try made.withLock { (made: inout CPUBackend?) throws(InferenceError) -> CPUBackend in
                if let made { return made }
                let backend = try CPUBackend(model: llama, threads: threads)
                made = backend
                return backend
            }
        }
    }

    /// A new CPU backend over these weights with its own KV arena (a pool worker's).
    public func makeBackend(kvMemoryBytes: Int, blockSize: Int, threads: Int? = nil) throws(InferenceError) -> CPUBackend {
        try CPUBackend(model: llama, threads: threads ?? self.threads, kvMemoryBytes: kvMemoryBytes, blockSize: blockSize)
    }

    /// A generator over this model's backend.
    public var generator: Generator {
        get throws(InferenceError) { Generator(backend: try backend, tokenizer: tokenizer) }
    }

    /// The prompt ids for a conversation: rendered with the model's template (generation prompt added)
    /// and tokenized with control tokens honoured only in the template's own text.
    public func promptTokens(for messages: [ChatMessage]) throws(InferenceError) -> [Int32] {
        tokenizer.encode(try template.render(messages, addGenerationPrompt: true))
    }
}
