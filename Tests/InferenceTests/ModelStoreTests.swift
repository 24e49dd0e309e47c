import Foundation
import Testing
import TestSupport
@testable import Inference

@Suite("SHA-256 against the NIST vectors")
struct ModelStoreSHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test("NIST FIPS 180-4 example messages")
    func nist() {
        for (message, digest) in Self.vectors {
            #expect(SHA256.hex(of: Array(message.utf8)) == digest, "length \(message.utf8.count)")
        }
    }

    @Test("feeding in uneven chunks gives the one-shot digest; files agree with sha256sum")
    func streamingAndFiles() throws {
        var generator = Xoshiro256StarStar(seed: 11)
        let data = (0..<300_007).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var hash = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 4096, 100_000] + Array(repeating: 50_000, count: 10) where offset < data.count {
            let end = min(offset + size, data.count)
            hash.update(data[offset..<end])
            offset = end
        }
        #expect(SHA256.hexString(hash.finalize()) == SHA256.hex(of: data))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(getpid()).bin")
        try Data(data).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reference = try WardenTool.runProcess("/usr/bin/sha256sum", [url.path])
        #expect(try SHA256.hex(ofFile: url.path) == String(reference.stdout.prefix(64)))
    }
}

@Suite("Model store: location, pull, verification", .serialized)
struct ModelStoreTests {
    @Test("the models directory: WARDEN_MODEL_DIR, then XDG_DATA_HOME, then HOME")
    func location() {
        #expect(ModelLocation.modelsDirectory(environment: ["WARDEN_MODEL_DIR": "/m", "XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/m")
        #expect(ModelLocation.modelsDirectory(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/warden/models")
        #expect(ModelLocation.modelsDirectory(environment: ["HOME": "/h", "WARDEN_MODEL_DIR": ""]) == "/h/.local/share/warden/models")
        #expect(ModelLocation.modelsDirectory(environment: [:]) == nil)
        #expect(ModelLocation.defaultModelPath(environment: ["HOME": "/h"])
            == "/h/.local/share/warden/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    @Test("a missing model's error says how to fetch it")
    func missingModel() {
        do {
            try ModelLocation.requireModel(at: "/nonexistent/model.gguf")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .modelNotFound)
            #expect(error.message.contains("warden model pull"))
        }
    }

    @Test("the default model in place is valid, and pulling it again fetches nothing")
    func defaultStorePresent() throws {
        let path = try TextFixture.modelPath()
        let store = ModelStore(directory: String(path.dropLast(ModelSource.smolLM2.fileName.count + 1)))
        #expect(store.isValid(.smolLM2))
        #expect(try store.pull(.smolLM2) == .alreadyPresent)
    }

    @Test("a corrupt copy is replaced by a fresh, verified download; no temporary files remain")
    func corruptReplaced() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-models-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = ModelStore(directory: directory.path)
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: store.path(of: .smolLM2)))
        #expect(!store.isValid(.smolLM2))
        #expect(try store.pull(.smolLM2) == .replacedCorrupt)
        #expect(store.isValid(.smolLM2))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [ModelSource.smolLM2.fileName])
        #expect(try store.pull(.smolLM2) == .alreadyPresent)
    }

    @Test("a failing fetch tool is an error naming the step; nothing is left behind")
    func fetchFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-models-bad-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        for python in ["/bin/false", "/nonexistent/python3"] {
            let store = ModelStore(directory: directory.path, python: python)
            do {
                _ = try store.pull(.smolLM2)
                Issue.record("expected an error")
            } catch {
                #expect(error.code == .modelFetch, "\(error)")
                #expect(error.message.contains(python), "\(error)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }
}
