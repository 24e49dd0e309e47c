import Foundation
import Testing
@testable import Inference
import TestSupport

/// Hand-made hostile files: each must be refused with `.malformedFile` and a message naming the problem.
@Suite struct GGUFBadFileTests {
    typealias T = GGUFBuilder.Tensor

    static let cases: [(name: String, bytes: [UInt8], expect: String)] = {
        var c: [(String, [UInt8], String)] = []
        let good = GGUFBuilder.file()
        c.append(("empty", [], "truncated"))
        c.append(("bad magic", GGUFBuilder.file(magic: 0x4C4C_4747), "bad magic"))
        c.append(("version 1", GGUFBuilder.file(version: 1), "unsupported GGUF version 1"))
        c.append(("big endian", GGUFBuilder.file(version: UInt32(3).byteSwapped), "big-endian"))
        c.append(("tensor count 1152921504606846976 cannot fit", GGUFBuilder.file(tensorCountOverride: 1 << 60), "tensor count 1152921504606846976 cannot fit"))
        c.append(("absurd kv count", GGUFBuilder.file(kvCountOverride: UInt64.max), "metadata count 18446744073709551615 cannot fit"))
        c.append(("header only", Array(good.prefix(20)), "truncated"))
        c.append(("cut in metadata", Array(good.prefix(60)), "truncated"))
        c.append(("cut in tensor data", Array(good.dropLast(100)), "runs past the end"))
        c.append(("string length past end", GGUFBuilder.file { kv in
            kv.string("x"); kv.u32(8); kv.u64(1 << 50); return 1 }, "claims"))
        c.append(("array count past end", GGUFBuilder.file { kv in
            kv.string("x"); kv.u32(9); kv.u32(4); kv.u64(1 << 40); return 1 }, "claims"))
        c.append(("unknown value type", GGUFBuilder.file { kv in kv.string("x"); kv.u32(77); return 1 }, "unknown value type 77"))
        c.append(("bad bool byte", GGUFBuilder.file { kv in kv.string("x"); kv.u32(7); kv.u8(9); return 1 }, "bool"))
        c.append(("duplicate key", GGUFBuilder.file { kv in
            kv.string("general.architecture"); kv.u32(8); kv.string("x"); return 1 }, "appears twice"))
        c.append(("alignment not a power of two", GGUFBuilder.file { kv in
            kv.string("general.alignment"); kv.u32(4); kv.u32(24); return 1 }, "power of two"))
        c.append(("unknown tensor type", GGUFBuilder.file(tensors: [T(name: "w", type: 99, shape: [32], offset: 0)]), "unknown ggml type 99"))
        c.append(("zero dims", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [], offset: 0)]), "0 dimensions"))
        c.append(("five dims", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [1, 1, 1, 1, 1], offset: 0)]), "5 dimensions"))
        c.append(("zero extent", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [0, 4], offset: 0)]), "dimension 0 = 0"))
        c.append(("shape overflow", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [1 << 30, 1 << 30, 1 << 30], offset: 0)]), "absurd element count"))
        c.append(("row not whole blocks", GGUFBuilder.file(tensors: [T(name: "w", type: 8, shape: [33, 2], offset: 0)]), "block size"))
        c.append(("tensor past end", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [1024], offset: 0)]), "runs past the end"))
        c.append(("offset past end", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [8], offset: 1 << 20)]), "runs past the end"))
        c.append(("absurd offset", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [8], offset: UInt64.max)]), "absurd offset"))
        c.append(("misaligned offset", GGUFBuilder.file(tensors: [T(name: "w", type: 0, shape: [8], offset: 4)]), "not a multiple of the alignment"))
        c.append(("overlapping tensors", GGUFBuilder.file(tensors: [
            T(name: "a", type: 0, shape: [32], offset: 0), T(name: "b", type: 0, shape: [32], offset: 64)]), "overlap"))
        c.append(("duplicate tensor", GGUFBuilder.file(tensors: [
            T(name: "a", type: 0, shape: [8], offset: 0), T(name: "a", type: 0, shape: [8], offset: 32)]), "appears twice"))
        return c
    }()

    @Test(arguments: cases.indices)
    func refusesBadFile(_ i: Int) {
        let (name, bytes, expected) = Self.cases[i]
        let error = #expect(throws: InferenceError.self, "\(name)") { try GGUFFile(bytes: bytes) }
        #expect(error?.code == .malformedFile, "\(name)")
        #expect(error?.message.contains(expected) == true, "\(name): \(error?.message ?? "no error")")
    }

    @Test func refusesATruncatedFileOnDiskByPath() throws {
        let path = NSTemporaryDirectory() + "gguf-truncated-\(getpid()).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(GGUFBuilder.file().dropLast(40)).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: InferenceError.self) { try GGUFFile(path: path) }
        #expect(error?.path == path && error?.description.hasPrefix(path) == true)
    }

    /// Mutates bytes of a valid file's header/metadata/directory at random, and truncates it at random:
    /// the reader must either accept the file or throw `.malformedFile`, never crash or hang.
    @Test func fuzzMutatedHeaders() {
        let good = GGUFBuilder.file()
        let headerEnd = good.count - 200
        var rng = SeededGenerator(seed: 0x5EED)
        var accepted = 0, refused = 0
        for iteration in 0..<5000 {
            var bytes = good
            if iteration % 5 == 4 {
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            } else {
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let at = Int(rng.next() % UInt64(headerEnd))
                    bytes[at] = rng.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
                }
            }
            do {
                let file = try GGUFFile(bytes: bytes)
                for t in file.tensors { _ = try file.tensor(named: t.name).data.reduce(0, &+) }
                accepted += 1
            } catch {
                #expect(error.code == .malformedFile, "iteration \(iteration): \(error)")
                refused += 1
            }
        }
        #expect(refused > 1000 && accepted > 100, "accepted \(accepted), refused \(refused)")
    }
}
