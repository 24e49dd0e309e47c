import Foundation
import Testing
@testable import Inference

/// CUDADevice on a real GPU: copies through the pinned staging, fills, a kernel launched directly, the
/// same launches recorded as a CUDA graph, replayed on new inputs, updated for a new shape, and timed.
/// These run only where an NVIDIA driver and a device are present (a GPU machine, via Scripts/gpu-check);
/// everywhere else they skip and say so. They have not yet run on a GPU at the time of writing.
@Suite("CUDADevice on a GPU", .enabled(if: GPUUnderTest.device != nil, "no CUDA device: \(GPUUnderTest.reason)"))
struct CUDADeviceGPUTests {


    @Test("uploads, fills and downloads round-trip, past the staging ring, with the host buffer reused at once")
    func copiesRoundTrip() throws {
        let gpu = try #require(GPUUnderTest.device)
        let count = 40 << 20  // more than the four 4 MiB staging chunks, so the ring wraps several times
        let buffer = try gpu.allocate(count)
        defer { gpu.free(buffer) }
        var host = [UInt8](repeating: 0, count: count)
        for i in 0..<count { host[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) }
        let expected = host
        try host.withUnsafeBytes { try gpu.upload($0, to: buffer, offset: 0) }
        for i in 0..<count { host[i] = 0xEE }  // the contract: reusable as soon as upload returns
        try gpu.fill(buffer, offset: 1000, byteCount: 24, value: 0x5A)
        var back = [UInt8](repeating: 0, count: count)
        try back.withUnsafeMutableBytes { try gpu.download(buffer, offset: 0, into: $0) }
        var small = [UInt8](repeating: 0, count: 32)
        try small.withUnsafeMutableBytes { try gpu.download(buffer, offset: 996, into: $0) }
        try gpu.synchronize()
        var want = expected
        for i in 1000..<1024 { want[i] = 0x5A }
        #expect(back == want)
        #expect(Array(small) == Array(want[996..<1028]))
        let memory = try gpu.memoryInfo()
        #expect(memory.free > 0 && memory.free <= memory.total && memory.total == gpu.info.totalMemory)
    }

    @Test("a launch, the same launch recorded and replayed on new inputs, updated for more rows, and timed",
          .enabled(if: KernelPTXTests.kernelsWritten, "all.cu has no kernels yet"))
    func graphsReplayOnNewInputs() throws {
        let gpu = try #require(GPUUnderTest.device)
        let n = 1000, rows = 8
        let logits = try gpu.allocate(rows * n * 4)
        let out = try gpu.allocate(rows * 4)
        defer { gpu.free(logits); gpu.free(out) }
        func argmax(_ rowCount: Int) throws(InferenceError) {
            // wk_argmax takes a block of warps: 32 lanes in x, warps in y (as GPUBackend launches it).
            try gpu.launch(.argmax, LaunchShape(grid: (UInt32(rowCount), 1, 1), block: (32, 8, 1)),
                           [.buffer(logits), .int32(Int32(n)), .buffer(out)])
        }
        func run(peaks: [Int], _ work: () throws -> Void) throws -> [Int32] {
            var values = [Float](repeating: 0, count: rows * n)
            for (row, peak) in peaks.enumerated() { values[row * n + peak] = 1 }
            try values.withUnsafeBytes { try gpu.upload($0, to: logits, offset: 0) }
            try work()
            var result = [Int32](repeating: -1, count: rows)
            try result.withUnsafeMutableBytes { try gpu.download(out, offset: 0, into: $0) }
            try gpu.synchronize()
            return result
        }
        let first = (0..<rows).map { ($0 * 131) % n }
        #expect(try run(peaks: first) { try argmax(rows) } == first.map(Int32.init))

        let step = try gpu.record { () throws(InferenceError) in try argmax(4) }
        #expect(step.launchCount == 1)
        let second = (0..<rows).map { ($0 * 17 + 5) % n }
        let replayed = try run(peaks: second) { try gpu.replay(step) }
        #expect(Array(replayed.prefix(4)) == second.prefix(4).map(Int32.init))

        let wider = try gpu.update(step) { () throws(InferenceError) in try argmax(rows) }
        defer { gpu.release(wider) }
        let third = (0..<rows).map { n - 1 - $0 }
        #expect(try run(peaks: third) { try gpu.replay(wider) } == third.map(Int32.init))
        let perReplay = try gpu.timedReplays(wider, count: 10)
        #expect(perReplay > 0)
    }

    @Test("copies are refused inside a recording, and the stream is usable afterwards")
    func copiesRefusedWhileRecording() throws {
        let gpu = try #require(GPUUnderTest.device)
        let buffer = try gpu.allocate(256)
        defer { gpu.free(buffer) }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
        defer { bytes.deallocate() }
        bytes.initializeMemory(as: UInt8.self, repeating: 1)
        let raw = UnsafeRawBufferPointer(bytes)
        #expect(throws: InferenceError.self) {
            _ = try gpu.record { () throws(InferenceError) in try gpu.upload(raw, to: buffer, offset: 0) }
        }
        try gpu.upload(raw, to: buffer, offset: 0)
        try gpu.synchronize()
    }
}

/// Device 0, opened once for the GPU tests (or why it could not be).
enum GPUUnderTest {
    static let opened: Result<CUDADevice, InferenceError> = {
        do throws(InferenceError) { return .success(try CUDADevice(ordinal: 0)) } catch { return .failure(error) }
    }()
    static var device: CUDADevice? { try? opened.get() }
    static var reason: String {
        if case .failure(let error) = opened { return error.message }
        return "opened"
    }
}
