import Foundation
import Testing
@testable import Inference

@Suite struct GGUFReaderTests {
    @Test func readsAHandBuiltFile() throws {
        let file = try GGUFFile(bytes: GGUFBuilder.file())
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.dataOffset % 32 == 0)
        #expect(try file.metadata.string("general.architecture") == "llama")
        #expect(try file.metadata.uint32("llama.block_count") == 2)
        #expect(try file.metadata.int("llama.block_count") == 2)
        #expect(try file.metadata.float32("llama.rope.freq_base") == 10000)
        #expect(try file.metadata.stringArray("tokenizer.ggml.tokens") == ["a", "b", "<|im_end|>"])
        #expect(try file.metadata.int32Array("tokenizer.ggml.token_type") == [1, 1, 3])
        #expect(try file.metadata.bool("tokenizer.ggml.add_bos_token") == false)
        let embd = try file.tensor(named: "embd.weight")
        #expect(embd.type == .q8_0 && embd.shape == [32, 4] && embd.data.count == 136)
        #expect(embd.info.rowCount == 4 && embd.info.rowLength == 32)
        #expect(embd.data.baseAddress == file.bytes.baseAddress! + file.dataOffset + 64)
    }

    @Test func typedAccessorsNameTheKey() throws {
        let meta = try GGUFFile(bytes: GGUFBuilder.file()).metadata
        let missing = #expect(throws: InferenceError.self) { try meta.string("general.nope") }
        #expect(missing?.code == .missingKey && missing?.message.contains("general.nope") == true)
        let wrong = #expect(throws: InferenceError.self) { try meta.uint32Array("tokenizer.ggml.token_type") }
        #expect(wrong?.code == .typeMismatch && wrong?.message.contains("array<int32>") == true)
        #expect(throws: InferenceError.self) { try meta.uint32("general.architecture") }
    }

    @Test func readsTheRealModelFile() throws {
        let path = ModelFixture.path
        try #require(FileManager.default.fileExists(atPath: path), "model file missing at \(path)")
        let file = try GGUFFile(path: path)
        #expect(file.tensors.count == 272)
        #expect(file.dataOffset == 1_785_664)
        #expect(file.metadata.keys.count == 33)
        #expect(try file.metadata.string("general.architecture") == "llama")
        #expect(try file.metadata.stringArray("tokenizer.ggml.tokens").count == 49152)
        #expect(try file.metadata.int32Array("tokenizer.ggml.token_type").prefix(18) == [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1])
        #expect(try file.metadata.stringArray("tokenizer.ggml.merges").first == "Ġ t")
        let q = try file.tensor(named: "blk.0.attn_q.weight")
        #expect(q.type == .q4_1 && q.shape == [576, 576] && q.data.count == 207_360)
        #expect(try file.tensor(named: "token_embd.weight").type == .q8_0)
        #expect(throws: InferenceError.self) { try file.tensor(named: "output.weight") }
    }

    @Test func missingFileSaysSo() {
        let error = #expect(throws: InferenceError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(error?.code == .modelNotFound)
    }
}

enum ModelFixture {
    /// The real model (see BRIEF: default model directory), overridable with WARDEN_TEST_MODEL.
    static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["WARDEN_TEST_MODEL"] { return p }
        let dir = env["WARDEN_MODEL_DIR"] ?? (env["XDG_DATA_HOME"].map { $0 + "/warden/models" }
            ?? (env["HOME"] ?? "/root") + "/.local/share/warden/models")
        return dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }
}
