import Foundation
import Testing
@testable import Inference

/// CUDADevice's orchestration over the host-memory fake driver (FakeCUDADriver, `working`): what it
/// hands the driver and in what order. The fake copies at once and runs no kernel, so these check
/// CUDADevice's bookkeeping (staging, marshalling, capture, cleanup), not CUDA's semantics.
@Suite("CUDADevice over a fake driver")
struct CUDADeviceFakeTests {
    /// A device on its own fake library (its own counters), and that library's path.
    func open(_ tag: String, syncResult: Int = 0, updateResult: Int = 0) throws -> (CUDADevice, String) {
        let path = try FakeCUDADriver.library(.init(working: true, syncResult: syncResult, updateResult: updateResult, tag: tag))
        let driver = try CUDADriver(library: path, minimumVersion: 12090)
        return (try CUDADevice(ordinal: 0, driver: driver), path)
    }

    func counter(_ name: String, _ path: String) throws -> Int32 { try FakeCUDADriver.read(name, in: path) }

    @Test("uploads go through the staging ring, downloads reach the caller at synchronize, large ones at once")
    func stagedCopies() throws {
        let (gpu, path) = try open("copies")
        let count = 40 << 20
        let buffer = try gpu.allocate(count)
        defer { gpu.free(buffer) }
        var host = (0..<count).map { UInt8(truncatingIfNeeded: $0 >> 3) }
        let expected = host
        try host.withUnsafeBytes { try gpu.upload($0, to: buffer, offset: 0) }
        // 40 MiB through four 4 MiB chunks: each reuse of a chunk waited for its event first.
        #expect(try counter("fake_event_waits", path) == Int32(count / PinnedStaging.chunkBytes - PinnedStaging.chunkCount))
        for i in 0..<count { host[i] = 0 }
        try gpu.fill(buffer, offset: 8, byteCount: 8, value: 0xAB)

        var small = [UInt8](repeating: 0, count: 32)
        try small.withUnsafeMutableBytes { try gpu.download(buffer, offset: 0, into: $0) }
        #expect(small == [UInt8](repeating: 0, count: 32), "a staged download must not land before synchronize")
        try host.withUnsafeMutableBytes { try gpu.download(buffer, offset: 0, into: $0) }
        #expect(host[100] == expected[100], "a download larger than the staging area is copied directly")
        try gpu.synchronize()
        var want = Array(expected[0..<32])
        for i in 8..<16 { want[i] = 0xAB }
        #expect(small == want)
        #expect(try gpu.memoryInfo() == (free: 70 << 30, total: 80 << 30))
    }

    @Test("launch arguments reach cuLaunchKernel as 8-byte slots; shared memory above 48 KiB raises the limit")
    func launchMarshalling() throws {
        let (gpu, path) = try open("launch")
        let buffer = try gpu.allocate(1024)
        defer { gpu.free(buffer) }
        let shape = LaunchShape(grid: (3, 2, 1), block: (128, 1, 1), sharedBytes: 100_000)
        try gpu.launch(.argmax, shape, [.pointer(buffer, offset: 64), .int32(-7), .float(1.5)])
        #expect(try FakeCUDADriver.readString("fake_kernel", in: path) == "wk_argmax")
        #expect(try FakeCUDADriver.read("fake_grid", in: path, index: 1, as: UInt32.self) == 2)
        #expect(try FakeCUDADriver.read("fake_block", in: path, index: 0, as: UInt32.self) == 128)
        #expect(try FakeCUDADriver.read("fake_shared", in: path, as: UInt32.self) == 100_000)
        #expect(try FakeCUDADriver.read("fake_params", in: path, index: 0, as: UInt64.self) == buffer.address + 64)
        let intSlot = try FakeCUDADriver.read("fake_params", in: path, index: 1, as: UInt64.self)
        #expect(UInt32(truncatingIfNeeded: intSlot) == UInt32(bitPattern: -7))
        let floatSlot = try FakeCUDADriver.read("fake_params", in: path, index: 2, as: UInt64.self)
        #expect(Float(bitPattern: UInt32(truncatingIfNeeded: floatSlot)) == 1.5)
        #expect(try counter("fake_shared_limit", path) == 100_000)

        let tooMuch = LaunchShape(grid: (1, 1, 1), block: (32, 1, 1), sharedBytes: 300_000)
        #expect(throws: InferenceError.self) { try gpu.launch(.embed, tooMuch, []) }
        #expect(try counter("fake_launches", path) == 1)
    }

    @Test("record captures launches into one graph; replay launches it; capture ends even when the body throws")
    func recordAndReplay() throws {
        let (gpu, path) = try open("record")
        let one = LaunchShape(grid: (1, 1, 1), block: (32, 1, 1))
        let args: [KernelArgument] = [.int32(1), .int32(2), .int32(3)]
        let step = try gpu.record { () throws(InferenceError) in
            for _ in 0..<3 { try gpu.launch(.argmax, one, args) }
        }
        #expect(step.launchCount == 3)
        #expect(try counter("fake_captured", path) == 3)
        #expect(try counter("fake_launches", path) == 0)
        #expect(try counter("fake_graphs", path) == 0, "the captured graph is destroyed once instantiated")
        try gpu.replay(step)
        try gpu.replay(step)
        #expect(try counter("fake_graph_launches", path) == 2)

        let buffer = try gpu.allocate(256)
        defer { gpu.free(buffer) }
        let bytes = [UInt8](repeating: 1, count: 16)
        let copyInside = bytes.withUnsafeBytes { raw in
            Result { () throws(InferenceError) in try gpu.record { () throws(InferenceError) in try gpu.upload(raw, to: buffer, offset: 0) } }
        }
        guard case .failure(let error) = copyInside else { Issue.record("an upload was recorded"); return }
        #expect(error.code == .invalidArgument)
        #expect(try counter("fake_capturing", path) == 0)
        #expect(try counter("fake_graphs", path) == 0)
        try bytes.withUnsafeBytes { try gpu.upload($0, to: buffer, offset: 0) }  // the stream is usable again

        gpu.release(step)
        gpu.release(step)  // twice is harmless
        #expect(try counter("fake_graph_execs", path) == 0)
        #expect(throws: InferenceError.self) { try gpu.replay(step) }
    }

    @Test("update keeps the graph exec when the driver can update it, and instantiates anew when not",
          arguments: [0, 910])
    func update(updateResult: Int) throws {
        let (gpu, path) = try open("update\(updateResult)", updateResult: updateResult)
        let shape = LaunchShape(grid: (1, 1, 1), block: (32, 1, 1))
        let step = try gpu.record { () throws(InferenceError) in try gpu.launch(.argmax, shape, [.int32(0), .int32(0), .int32(0)]) }
        let updated = try gpu.update(step) { () throws(InferenceError) in
            for _ in 0..<2 { try gpu.launch(.argmax, shape, [.int32(0), .int32(0), .int32(0)]) }
        }
        #expect(updated.launchCount == 2)
        #expect(try counter("fake_updates", path) == 1)
        #expect((updated.handle === step.handle) == (updateResult == 0))
        #expect(try counter("fake_graph_execs", path) == 1)
        gpu.release(updated)
        #expect(try counter("fake_graph_execs", path) == 0)
    }

    @Test("a failed synchronize names the kernels launched since the last one and hands over no downloads")
    func faultNamesSuspects() throws {
        let (gpu, _) = try open("fault", syncResult: 700)
        let buffer = try gpu.allocate(256)
        defer { gpu.free(buffer) }
        try gpu.fill(buffer, offset: 0, byteCount: 256, value: 7)
        let one = LaunchShape(grid: (1, 1, 1), block: (32, 1, 1))
        let args: [KernelArgument] = [.int32(0), .int32(0), .int32(0)]
        for kernel in [Kernel.embed, .argmax, .embed] { try gpu.launch(kernel, one, args) }
        let step = try gpu.record { () throws(InferenceError) in try gpu.launch(.sample, one, args) }
        defer { gpu.release(step) }
        try gpu.replay(step)
        var out = [UInt8](repeating: 0, count: 16)
        try out.withUnsafeMutableBytes { try gpu.download(buffer, offset: 0, into: $0) }
        do {
            try gpu.synchronize()
            Issue.record("the failing synchronize passed")
        } catch {
            #expect(error.code == .deviceFailure)
            #expect(error.message.contains("after launches of wk_embed, wk_argmax, a replayed step:"))
            #expect(error.message.hasSuffix("CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)"))
        }
        #expect(out == [UInt8](repeating: 0, count: 16))
    }

    @Test("timed reports the events' elapsed time; dropping the device releases what it made")
    func timingAndCleanup() throws {
        var (gpu, path) = try open("cleanup")
        #expect(try gpu.timed {} == 1.5)
        #expect(try counter("fake_events", path) == Int32(PinnedStaging.chunkCount + 2))
        #expect(try counter("fake_host_blocks", path) == Int32(PinnedStaging.chunkCount + 1))
        gpu = try open("cleanup-other").0  // the last reference to the first device goes
        #expect(try counter("fake_events", path) == 0)
        #expect(try counter("fake_host_blocks", path) == 0)
        #expect(try counter("fake_modules", path) == 0)
        #expect(try counter("fake_retained", path) == 0)
        #expect(try counter("fake_streams", path) == 0)
        _ = gpu
    }
}
