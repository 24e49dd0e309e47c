import Foundation
import GPUTestSupport
import Synchronization
import Testing
@testable import Inference

/// The GPU tests' shared state: one emulated device (the CUDA emulator: the kernels of
/// Sources/Inference/CUDA/Kernels compiled for this CPU) and one GPUBackend on the real model.
enum GPUFixture {
    static let device = EmulatedDevice(capacity: 1 << 30)
    /// KV blocks of the shared backend, handed out by `GPUBlocks`.
    static let blockCount = 48
    static let backend: GPUBackend? = SharedModel.model.flatMap {
        try? GPUBackend(model: $0, device: device, kvMemoryBytes: blockCount * 16 * $0.config.kvValuesPerToken * 2, maxPassTokens: 64)
    }
}

/// Disjoint blocks of `GPUFixture.backend`'s arena for concurrently running tests.
enum GPUBlocks {
    private static let free = Mutex<[Int32]>((0..<Int32(GPUFixture.blockCount)).reversed())

    static func take(_ count: Int) throws -> [Int32] {
        try free.withLock { free in
            guard free.count >= count else { throw InferenceError(.invalidArgument, "GPU test arena exhausted") }
            defer { free.removeLast(count) }
            return Array(free.suffix(count).reversed())
        }
    }

    static func give(_ blocks: [Int32]) { free.withLock { $0.append(contentsOf: blocks) } }
}

/// Device buffers for one op test, freed when it goes away.
final class DeviceArrays {
    let device: any ComputeDevice
    private var buffers: [DeviceBuffer] = []

    init(_ device: any ComputeDevice) { self.device = device }
    deinit { for b in buffers { device.free(b) } }

    /// A buffer holding `values`.
    func put<T>(_ values: [T]) throws -> DeviceBuffer {
        let b = try device.allocate(max(1, values.count * MemoryLayout<T>.stride))
        buffers.append(b)
        try values.withUnsafeBytes { try device.upload($0, to: b, offset: 0) }
        return b
    }

    /// A buffer of `count` values of T, every byte `fill`.
    func zeros<T>(_ type: T.Type, _ count: Int, fill: UInt8 = 0) throws -> DeviceBuffer {
        let b = try device.allocate(max(1, count * MemoryLayout<T>.stride))
        buffers.append(b)
        try device.fill(b, offset: 0, byteCount: b.byteCount, value: fill)
        return b
    }

    func get<T>(_ buffer: DeviceBuffer, _ count: Int, as: T.Type) throws -> [T] {
        var out = [T](unsafeUninitializedCapacity: count) { _, n in n = count }
        try out.withUnsafeMutableBytes { try device.download(buffer, offset: 0, into: $0) }
        try device.synchronize()
        return out
    }
}

/// Normalized mean squared error: Σ(a − b)² / Σ b².
func nmse(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) {
        num += Double(x - y) * Double(x - y)
        den += Double(y) * Double(y)
    }
    return den > 0 ? num / den : num
}

/// Activation blocks as floats (d · q), to compare quantized outputs.
func dequantizedBlocks(_ bytes: [UInt8]) -> [Float] {
    let n = bytes.count / ReferenceKernels.q8BlockBytes
    var out: [Float] = []
    bytes.withUnsafeBytes { p in
        for b in 0..<n {
            let blk = p.baseAddress! + b * ReferenceKernels.q8BlockBytes
            let d = blk.load(as: Float.self)
            for j in 0..<32 { out.append(d * Float(blk.load(fromByteOffset: 16 + j, as: Int8.self))) }
        }
    }
    return out
}

/// CPU activation blocks of `rows` rows of `k` floats.
func cpuQuantized(_ x: [Float], rows: Int, k: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: rows * (k / 32) * ReferenceKernels.q8BlockBytes)
    x.withUnsafeBufferPointer { xs in
        out.withUnsafeMutableBytes { o in
            for r in 0..<rows {
                ReferenceKernels.quantizeQ8(xs.baseAddress! + r * k, k: k, into: o.baseAddress! + r * (k / 32) * ReferenceKernels.q8BlockBytes)
            }
        }
    }
    return out
}

/// Prints a measured error so test logs carry the numbers the report quotes.
func report(_ target: TestDevice? = nil, _ what: String, _ value: Double) {
    print("GPU parity \(what)\(target.map { " on \($0)" } ?? ""): NMSE \(String(format: "%.3e", value))")
}
