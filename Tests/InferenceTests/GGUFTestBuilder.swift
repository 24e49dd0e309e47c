@testable import Inference

/// Builds small GGUF files byte by byte for the reader's tests (nothing is committed to disk).
struct GGUFBuilder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }

    struct Tensor {
        var name: String
        var type: UInt32
        var shape: [UInt64]
        var offset: UInt64
    }

    /// A complete small file: a few metadata kinds, the given tensors, and `dataBytes` of data.
    static func file(
        magic: UInt32 = 0x4655_4747, version: UInt32 = 3, tensorCountOverride: UInt64? = nil,
        kvCountOverride: UInt64? = nil, tensors: [Tensor] = standardTensors, dataBytes: Int = 200,
        extraKV: (inout GGUFBuilder) -> Int = { _ in 0 }
    ) -> [UInt8] {
        var kv = GGUFBuilder()
        kv.string("general.architecture"); kv.u32(8); kv.string("llama")
        kv.string("llama.block_count"); kv.u32(4); kv.u32(2)
        kv.string("llama.rope.freq_base"); kv.u32(6); kv.f32(10000)
        kv.string("tokenizer.ggml.tokens"); kv.u32(9); kv.u32(8); kv.u64(3)
        for t in ["a", "b", "<|im_end|>"] { kv.string(t) }
        kv.string("tokenizer.ggml.token_type"); kv.u32(9); kv.u32(5); kv.u64(3)
        for t: UInt32 in [1, 1, 3] { kv.u32(t) }
        kv.string("tokenizer.ggml.add_bos_token"); kv.u32(7); kv.u8(0)
        let kvCount = 6 + extraKV(&kv)

        var b = GGUFBuilder()
        b.u32(magic); b.u32(version)
        b.u64(tensorCountOverride ?? UInt64(tensors.count)); b.u64(kvCountOverride ?? UInt64(kvCount))
        b.bytes += kv.bytes
        for t in tensors {
            b.string(t.name); b.u32(UInt32(t.shape.count))
            for d in t.shape { b.u64(d) }
            b.u32(t.type); b.u64(t.offset)
        }
        b.pad(to: 32)
        for i in 0..<dataBytes { b.u8(UInt8(truncatingIfNeeded: i &* 7)) }
        return b.bytes
    }

    /// An F32 [8, 2] matrix (64 bytes) at 0 and a Q8_0 [32, 4] matrix (136 bytes) at 64.
    static let standardTensors = [
        Tensor(name: "norm.weight", type: 0, shape: [8, 2], offset: 0),
        Tensor(name: "embd.weight", type: 8, shape: [32, 4], offset: 64),
    ]
}
