// The two bounds a decode step is held against: the bytes it must read (every weight once, each
// stream's cached keys and values) over the device's memory bandwidth, and the kernels it launches
// times the cost of one launch. Both measured in the same run as the steps themselves.
import BenchSupport
import Inference

enum Roofline {
    /// Bytes of weights one decode step reads: every matrix once (the output head in full, the
    /// embedding only as rows, which the tied head already reads), and the norm vectors.
    static func weightBytes(_ model: LlamaModel) -> Int {
        let d = model.config.embeddingLength
        var bytes = model.outputHead.data.count + d * 4
        for layer in model.layers {
            for matrix in [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down] {
                bytes += matrix.data.count
            }
            bytes += 2 * d * 4
        }
        if model.outputHead.data.baseAddress != model.tokenEmbedding.data.baseAddress {
            bytes += model.tokenEmbedding.data.count / max(1, model.tokenEmbedding.rows)  // one row per stream, about
        }
        return bytes
    }

    /// Bytes of keys and values one decode step reads: every cached position of every stream, in
    /// half precision (the GPU backend's KV format).
    static func kvBytes(_ config: ModelConfig, streams: Int, meanContext: Double) -> Double {
        Double(streams) * meanContext * Double(config.kvValuesPerToken * 2)
    }

    /// Device memory write bandwidth in bytes per second: `fill` of a `megabytes` buffer, median of
    /// `repeats`, timed on the device's clock (a memset moves written bytes only; the peer's
    /// device-to-device copy in the same run counts read plus written).
    static func fillBandwidth(_ target: Target, megabytes: Int = 2048, repeats: Int = 10) throws(InferenceError) -> Double {
        let device = target.device
        let size = megabytes << 20
        let buffer = try device.allocate(size)
        defer { device.free(buffer) }
        try device.fill(buffer, offset: 0, byteCount: size, value: 0x5A)
        try device.synchronize()
        var times: [Double] = []
        for run in 0..<repeats {
            times.append(try target.timed { () throws(InferenceError) in
                try device.fill(buffer, offset: 0, byteCount: size, value: UInt8(run & 0x7F))
            })
        }
        return Double(size) / median(times)
    }

    /// Seconds per launch of a near-empty kernel (`wk_argmax` over one 32-float row, launched as the
    /// backend launches it), `count` back to back, on the device's clock: the rate launches sustain.
    static func launchSeconds(_ target: Target, count: Int = 2000) throws(InferenceError) -> Double {
        let device = target.device
        let scratch = try device.allocate(4096)
        defer { device.free(scratch) }
        try device.fill(scratch, offset: 0, byteCount: 4096, value: 0)
        // wk_argmax(const float *logits, int n, int *out), one row per block of 32 × 4 threads.
        let shape = LaunchShape(grid: (1, 1, 1), block: (32, 4, 1))
        let arguments: [KernelArgument] = [.pointer(scratch, offset: 0), .int32(32), .pointer(scratch, offset: 2048)]
        for _ in 0..<100 { try device.launch(.argmax, shape, arguments) }
        try device.synchronize()
        let seconds = try target.timed { () throws(InferenceError) in
            for _ in 0..<count { try device.launch(.argmax, shape, arguments) }
        }
        return seconds / Double(count)
    }
}
