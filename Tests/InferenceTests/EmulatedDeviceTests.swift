import CUDAEmulator
import Foundation
import GPUTestSupport
import Inference
import Testing

/// EmulatedDevice as a ComputeDevice: the errors it must raise (divergent barriers, faults, bad copies,
/// bad arguments, unknown kernels, memory exhaustion) and record/replay.
@Suite struct EmulatedDeviceTests {
    static let one = LaunchShape(grid: (1, 1, 1), block: (64, 1, 1))

    /// The error `body` throws (failing the test if it throws none).
    func error(_ body: () throws -> Void) -> InferenceError? {
        do {
            try body()
            Issue.record("expected an error")
            return nil
        } catch {
            let failure = error as? InferenceError
            #expect(failure != nil, "\(error) is not an InferenceError")
            return failure
        }
    }

    @Test(arguments: [("wk_selftest_divergent_sync", "divergent barrier"), ("wk_selftest_uneven_sync", "divergent barrier")])
    func divergentBarrierIsAnErrorNamingKernelBlockAndThread(kernel: String, words: String) throws {
        let device = EmulatedDevice()
        let arguments: [KernelArgument] = kernel.hasSuffix("divergent_sync") ? [.int32(3)] : []
        let shape = LaunchShape(grid: (2, 1, 1), block: (64, 1, 1))
        let failure = error { try device.launch(kernelNamed: kernel, shape, arguments) }
        #expect(failure?.code == InferenceError.Code("device-failure"))
        let message = failure?.message ?? ""
        #expect(message.contains(kernel) && message.contains("block (") && message.contains("thread (") && message.contains(words), "\(message)")
        try device.launch(kernelNamed: "wk_selftest_divergent_sync", shape, [.int32(-1)])  // nobody skips: fine
    }

    @Test func divergentShuffleIsAnError() throws {
        let device = EmulatedDevice()
        let out = try device.allocate(64 * 4)
        let failure = error {
            try device.launch(kernelNamed: "wk_selftest_divergent_shuffle", Self.one, [.buffer(out), .int32(7)])
        }
        #expect(failure?.message.contains("wk_selftest_divergent_shuffle") == true)
        #expect(failure?.message.contains("divergent shuffle") == true, "\(failure?.message ?? "")")
    }

    @Test func unknownKernelsAndBadShapesAreRejected() throws {
        #expect(wk_emu_kernel("wk_no_such_kernel") == nil)
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { wk_emu_launch(nil, 1, 1, 1, 1, 1, 1, 0, nil, $0.baseAddress, $0.count) }
        #expect(status == -1)
        let device = EmulatedDevice()
        let unknown = error { try device.launch(kernelNamed: "wk_no_such_kernel", Self.one, []) }
        #expect(unknown?.code == .unsupported && unknown?.message.contains("wk_no_such_kernel") == true)
        let tooBig = error {
            try device.launch(kernelNamed: "wk_selftest_uneven_sync", LaunchShape(grid: (1, 1, 1), block: (1025, 1, 1)), [])
        }
        #expect(tooBig?.message.contains("wk_selftest_uneven_sync") == true)
    }

    /// Each registered kernel is a self-test kernel or a case of `Kernel` (a renamed kernel whose old
    /// registry line stayed would show here), with a signature of pointer, int and float parameters.
    @Test func theRegistryHoldsOnlyKnownKernels() {
        let names = (0..<wk_emu_kernel_count()).compactMap { wk_emu_kernel_name(wk_emu_kernel_at($0)).map { String(cString: $0) } }
        #expect(names.contains("wk_selftest_block_sum") && names.count == Set(names).count, "\(names)")
        for name in names where !name.hasPrefix("wk_selftest_") {
            #expect(Kernel(rawValue: name) != nil, "\(name) is registered but is not a case of Kernel")
        }
        for index in 0..<wk_emu_kernel_count() {
            let signature = wk_emu_kernel_signature(wk_emu_kernel_at(index)).map { String(cString: $0) } ?? "?"
            #expect(signature.allSatisfy { "pif".contains($0) })
        }
    }

    @Test func argumentsMustMatchTheKernelsParametersAndLiveBuffers() throws {
        let device = EmulatedDevice()
        #expect(wk_emu_kernel_signature(wk_emu_kernel("wk_selftest_store")).map { String(cString: $0) } == "pif")
        let out = try device.allocate(16)
        let store = "wk_selftest_store"
        #expect(error { try device.launch(kernelNamed: store, Self.one, [.buffer(out), .int32(0)]) }?.code == .invalidArgument)
        #expect(error { try device.launch(kernelNamed: store, Self.one, [.buffer(out), .float(0), .float(1)]) }?.code == .invalidArgument)
        #expect(error { try device.launch(kernelNamed: store, Self.one, [.pointer(out, offset: 17), .int32(0), .float(1)]) }?.code == .invalidArgument)
        device.free(out)
        #expect(error { try device.launch(kernelNamed: store, Self.one, [.buffer(out), .int32(0), .float(1)]) }?.code == .invalidArgument)
        device.free(out)
        #expect(device.counters.strayFrees == 1)
    }

    @Test func copiesOutsideABufferAreRejected() throws {
        let device = EmulatedDevice()
        let buffer = try device.allocate(16)
        let seventeen = [UInt8](repeating: 1, count: 17)
        #expect(error { try seventeen.withUnsafeBytes { b in try device.upload(b, to: buffer, offset: 0) } }?.code == .invalidArgument)
        #expect(error { try seventeen.prefix(4).withUnsafeBytes { b in try device.upload(UnsafeRawBufferPointer(b), to: buffer, offset: 13) } }?.code == .invalidArgument)
        #expect(error { try device.fill(buffer, offset: -1, byteCount: 2, value: 0) }?.code == .invalidArgument)
        var into = [UInt8](repeating: 0, count: 8)
        #expect(error { try into.withUnsafeMutableBytes { b in try device.download(buffer, offset: 9, into: b) } }?.code == .invalidArgument)
        try device.fill(buffer, offset: 8, byteCount: 8, value: 7)
        #expect(try device.download(buffer, as: UInt8.self, count: 16) == [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 7, count: 8))
        let foreign = DeviceBuffer(address: buffer.address + 4096 * 16, byteCount: 16)
        #expect(error { try device.fill(foreign, offset: 0, byteCount: 1, value: 0) }?.code == .invalidArgument)
    }

    @Test func aKernelWritingPastABufferFaultsIntoItsGuardPage() throws {
        let device = EmulatedDevice()
        let out = try device.allocate(256)  // a multiple of 256: the buffer ends right at its guard page
        let failure = error {
            try device.launch(kernelNamed: "wk_selftest_store", Self.one, [.buffer(out), .int32(64), .float(1)])
        }
        #expect(failure?.message.contains("wk_selftest_store") == true && failure?.message.contains("memory fault") == true, "\(failure?.message ?? "")")
        try device.launch(kernelNamed: "wk_selftest_store", Self.one, [.buffer(out), .int32(63), .float(5)])  // still works after
        #expect(try device.download(out, as: Float.self, count: 64)[63] == 5)
    }

    @Test func aFiberStackOverflowIsReportedNotFatal() throws {
        let device = EmulatedDevice()
        let out = try device.allocate(8)
        let failure = error { try device.launch(kernelNamed: "wk_selftest_deep_stack", Self.one, [.buffer(out), .int32(5)]) }
        #expect(failure?.message.contains("wk_selftest_deep_stack") == true && failure?.message.contains("memory fault") == true, "\(failure?.message ?? "")")
    }

    /// Large grids spread over the helper threads; an error in any block still comes back.
    @Test func errorsInLargeGridsComeBackFromEveryThread() throws {
        let device = EmulatedDevice()
        let big = LaunchShape(grid: (512, 1, 1), block: (64, 1, 1))
        let divergent = error { try device.launch(kernelNamed: "wk_selftest_divergent_sync", big, [.int32(9)]) }
        #expect(divergent?.message.contains("divergent barrier") == true)
        let out = try device.allocate(256)
        let fault = error { try device.launch(kernelNamed: "wk_selftest_store", big, [.buffer(out), .int32(64), .float(1)]) }
        #expect(fault?.message.contains("memory fault") == true)
        try device.launch(kernelNamed: "wk_selftest_divergent_sync", big, [.int32(-1)])
    }

    @Test func memoryIsBoundedByTheCapacity() throws {
        let device = EmulatedDevice(capacity: 1 << 20)
        let first = try device.allocate(600_000)
        #expect(try device.memoryInfo() == (free: (1 << 20) - 600_000, total: 1 << 20))
        #expect(error { _ = try device.allocate(600_000) }?.code == InferenceError.Code("device-failure"))
        device.free(first)
        let second = try device.allocate(600_000)
        #expect(second.address % 256 == 0 && device.liveAllocations.count == 1)
        device.free(second)
        #expect(device.liveAllocations == (count: 0, bytes: 0))
    }

    @Test func recordCapturesLaunchesAndReplayRunsThemOnCurrentContents() throws {
        let device = EmulatedDevice()
        let threads = 32
        let input = try device.allocate(threads * 4), middle = try device.allocate(threads * 4), output = try device.allocate(threads * 4)
        let shape = LaunchShape(grid: (1, 1, 1), block: (UInt32(threads), 1, 1), sharedBytes: UInt32(threads * 4))
        let step = try device.record { () throws(InferenceError) in
            try device.launch(kernelNamed: "wk_selftest_dynamic_shared", shape, [.buffer(input), .buffer(middle)])
            try device.launch(kernelNamed: "wk_selftest_store", shape, [.buffer(middle), .int32(0), .float(-1)])
            try device.launch(kernelNamed: "wk_selftest_dynamic_shared", shape, [.buffer(middle), .buffer(output)])
        }
        #expect(step.launchCount == 3 && device.counters.kernelsRun == 0)
        for round in 0..<3 {
            let x = (0..<threads).map { Float($0 * (round + 1)) }
            try x.withUnsafeBytes { try device.upload($0, to: input, offset: 0) }
            try device.replay(step)
            var expected = x
            expected[threads - 1] = -1  // the store wrote middle[0], which is output[threads - 1]
            #expect(try device.download(output, as: Float.self, count: threads) == expected)
        }
        let c = device.counters
        #expect(c.launchesIssued == 0 && c.launchesRecorded == 3 && c.replays == 3 && c.kernelsRun == 9 && c.steps == 1)
        let inside = error {
            _ = try device.record { () throws(InferenceError) in try device.fill(input, offset: 0, byteCount: 4, value: 0) }
        }
        #expect(inside?.message.contains("inside record") == true)
        device.release(step)
        #expect(error { try device.replay(step) }?.message.contains("released") == true)
    }

    /// The speed check (reported, not asserted): 32 shuffles per thread over 2^20 threads.
    @Test func shuffleSpeedReport() throws {
        let device = EmulatedDevice()
        let blocks = 4096, threads = 256, rounds = 32
        let out = try device.allocate(blocks * threads * 4)
        let switches = wk_emu_switch_count()
        let start = Date()
        try device.launch(
            kernelNamed: "wk_selftest_shuffle_rounds", LaunchShape(grid: (UInt32(blocks), 1, 1), block: (UInt32(threads), 1, 1)),
            [.buffer(out), .int32(Int32(rounds))])
        let seconds = Date().timeIntervalSince(start)
        let made = wk_emu_switch_count() - switches  // other tests' launches may add to this count
        print("CUDA emulator: \(blocks * threads) threads × \(rounds) shuffles in \(String(format: "%.3f", seconds)) s, ~\(made) switches, \(String(format: "%.1f", Double(made) / seconds / 1e6)) M switches/s on \(wk_emu_threads()) threads")
        var lanes = (0..<32).map { Float($0) }
        for r in 0..<rounds { lanes = (0..<32).map { lanes[$0 ^ (1 + r % 31)] * 0.5 + 1 } }
        let got = try device.download(out, as: Float.self, count: blocks * threads)
        #expect(got.enumerated().allSatisfy { $0.element == lanes[$0.offset % 32] })
    }
}
