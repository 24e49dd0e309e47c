extension Tokenizer {
    /// Builds the tokenizer a GGUF file describes (`tokenizer.ggml.*`); only `gpt2` (byte-level BPE)
    /// vocabularies are supported, and the error says which model type was found otherwise.
    public init(gguf metadata: GGUFMetadata) throws(InferenceError) {
        let model = try metadata.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw InferenceError(.tokenizer, "tokenizer model '\(model)' is not supported (only 'gpt2' byte-level BPE)",
                                 path: metadata.path)
        }
        func optionalID(_ key: String) throws(InferenceError) -> Int32? {
            metadata.contains(key) ? Int32(truncatingIfNeeded: try metadata.int(key)) : nil
        }
        let tokens = try metadata.stringArray("tokenizer.ggml.tokens")
        let types = metadata.contains("tokenizer.ggml.token_type") ? try metadata.int32Array("tokenizer.ggml.token_type") : []
        let merges = try metadata.stringArray("tokenizer.ggml.merges")
        let pre = metadata.contains("tokenizer.ggml.pre") ? try metadata.string("tokenizer.ggml.pre") : "gpt2"
        guard let eos = try optionalID("tokenizer.ggml.eos_token_id") else {
            throw InferenceError(.missingKey, "metadata key 'tokenizer.ggml.eos_token_id' is missing", path: metadata.path)
        }
        do {
            try self.init(tokens: tokens, types: types, merges: merges, preTokenizer: pre, eosID: eos,
                          bosID: try optionalID("tokenizer.ggml.bos_token_id"),
                          addsBOS: metadata.contains("tokenizer.ggml.add_bos_token")
                              ? try metadata.bool("tokenizer.ggml.add_bos_token") : false,
                          eotID: try optionalID("tokenizer.ggml.eot_token_id"))
        } catch {
            throw InferenceError(error.code, error.message, path: metadata.path)
        }
    }
}

extension ChatTemplate {
    /// The model's chat template (`tokenizer.chat_template`), recognised as ChatML or refused.
    public init(gguf metadata: GGUFMetadata) throws(InferenceError) {
        guard metadata.contains("tokenizer.chat_template") else {
            throw InferenceError(.chatTemplate, "the model has no chat template (tokenizer.chat_template)", path: metadata.path)
        }
        do {
            try self.init(jinja: try metadata.string("tokenizer.chat_template"))
        } catch {
            throw InferenceError(error.code, error.message, path: metadata.path)
        }
    }
}
