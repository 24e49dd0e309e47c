extension InferenceError.Code {
    /// The vocabulary or merges in the model file cannot build a tokenizer.
    public static let tokenizer = Self("tokenizer")
    /// The chat template is not one this engine can render, or the messages do not fit it.
    public static let chatTemplate = Self("chat-template")
    /// Fetching the model (pip, unzip) failed.
    public static let modelFetch = Self("model-fetch")
    /// A file's SHA-256 is not the one expected.
    public static let checksumMismatch = Self("checksum-mismatch")
}
