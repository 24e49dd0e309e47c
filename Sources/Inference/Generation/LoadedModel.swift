/// A model ready to chat: the mapped GGUF file, its tokenizer and chat template, and a backend
/// holding its weights. What `warden chat` and `warden generate` load once per process.
public final class LoadedModel: Sendable {
    /// The model file.
    public let path: String
    /// The parsed file (metadata, tensors).
    public let file: GGUFFile
    /// The tokenizer from the file's metadata.
    public let tokenizer: Tokenizer
    /// The chat template from the file's metadata.
    public let template: ChatTemplate
    /// Where the forward pass runs.
    public let backend: any InferenceBackend

    /// Loads `path` onto the CPU backend. A missing file's error says how to fetch the default model.
    public init(path: String, threads: Int? = nil) throws(InferenceError) {
        try ModelLocation.requireModel(at: path)
        self.path = path
        file = try GGUFFile(path: path)
        tokenizer = try Tokenizer(gguf: file.metadata)
        template = try ChatTemplate(gguf: file.metadata)
        let model = try LlamaModel(file: file)
        guard model.config.vocabularySize == tokenizer.vocabularySize else {
            throw InferenceError(.shapeMismatch, """
                the tokenizer has \(tokenizer.vocabularySize) tokens but the model's embedding has \
                \(model.config.vocabularySize) rows
                """, path: path)
        }
        backend = CPUBackend(model: model, threads: threads)
    }

    /// A generator over this model's backend.
    public var generator: Generator { Generator(backend: backend, tokenizer: tokenizer) }

    /// The prompt ids for a conversation: rendered with the model's template (generation prompt added)
    /// and tokenized with control tokens honoured only in the template's own text.
    public func promptTokens(for messages: [ChatMessage]) throws(InferenceError) -> [Int32] {
        tokenizer.encode(try template.render(messages, addGenerationPrompt: true))
    }
}
