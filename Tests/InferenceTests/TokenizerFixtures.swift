import Foundation
import Testing
import TestSupport
@testable import Inference

/// The llama.cpp reference data (Tests/Data/smollm2-reference.json, copied from the research notes).
struct Reference: Decodable, Sendable {
    struct Message: Decodable, Sendable {
        var role: String
        var content: String
    }
    struct FirstStep: Decodable, Sendable {
        var top5_ids: [Int32]
        var top5_logits: [Float]
    }
    struct Case: Decodable, Sendable {
        var name: String
        var messages: [Message]
        var rendered_prompt: String
        var prompt_token_ids: [Int32]
        var greedy_token_ids: [Int32]
        var greedy_text: String
        var ends_with_eos: Bool
        var first_step: FirstStep
        var step_margins_top1_minus_top2: [Float]
    }
    struct TokenizerCase: Decodable, Sendable {
        var text: String
        var ids_parse_special: [Int32]
        var ids_no_special: [Int32]
    }
    var model_sha256: String
    var model_bytes: Int
    var eos_token_id: Int32
    var eog_token_ids_llama_cpp: [Int32]
    var max_new_tokens: Int
    var cases: [Case]
    var tokenizer_cases: [TokenizerCase]

    static let url = WardenTool.packageRoot.appendingPathComponent("Tests/Data/smollm2-reference.json")

    /// Loaded once per test process.
    static let shared: Result<Reference, any Error> = Result {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static func load() throws -> Reference { try shared.get() }
}

/// The real model's tokenizer and template, loaded once from the default model file. A missing model
/// is a test failure that says how to fetch it, never a silent skip.
enum TextFixture {
    static func modelPath() throws -> String {
        let path = try #require(ModelLocation.defaultModelPath(), "no models directory: set WARDEN_MODEL_DIR or HOME")
        try #require(FileManager.default.fileExists(atPath: path),
                     "the model is missing at \(path): run `warden model pull` (Scripts/test does)")
        return path
    }

    static let sharedFile: Result<GGUFFile, any Error> = Result { try GGUFFile(path: modelPath()) }
    static let sharedTokenizer: Result<Tokenizer, any Error> = Result {
        try Tokenizer(gguf: sharedFile.get().metadata)
    }

    static func file() throws -> GGUFFile { try sharedFile.get() }
    static func tokenizer() throws -> Tokenizer { try sharedTokenizer.get() }

    /// The model's `tokenizer.chat_template`.
    static func chatTemplateSource() throws -> String {
        try file().metadata.string("tokenizer.chat_template")
    }
}
