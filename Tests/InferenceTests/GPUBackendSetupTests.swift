import Foundation
import GPUTestSupport
import Testing
@testable import Inference

/// How GPUBackend sizes its KV arena and keeps its recordings.
@Suite struct GPUBackendSetupTests {
    /// Without a KV size the arena takes 90% of the memory left after weights and activations, capped at
    /// maxPassTokens full contexts; too little memory for one block is an error.
    @Test func kvArenaIsSizedFromFreeMemoryAndCapped() throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let c = model.config, perBlock = c.kvValuesPerToken * 2 * 16, contextBlocks = (c.contextLength + 15) / 16
        let small = EmulatedDevice(capacity: 400 << 20)
        let byMemory = try GPUBackend(model: model, device: small, maxPassTokens: 4)
        let freeBefore = try small.memoryInfo().free + byMemory.arena.byteCount
        #expect(byMemory.kvLayout.blockCount == Int(Double(freeBefore) * 0.9) / perBlock)
        #expect(byMemory.kvLayout.blockCount < 4 * contextBlocks && byMemory.counters.kvBlocks == byMemory.kvLayout.blockCount)
        let capped = try GPUBackend(model: model, device: EmulatedDevice(capacity: 4 << 30), maxPassTokens: 1)
        #expect(capped.kvLayout.blockCount == contextBlocks)
        let error = #expect(throws: InferenceError.self) {
            try GPUBackend(model: model, device: EmulatedDevice(capacity: 400 << 20), kvMemoryBytes: perBlock - 1)
        }
        #expect(error?.code == .invalidArgument)
    }

    /// A backend that goes away frees every buffer it allocated.
    @Test func aBackendFreesItsDeviceMemory() throws {
        let model = try #require(SharedModel.model, "model missing at \(ModelFixture.path)")
        let device = EmulatedDevice(capacity: 1 << 30)
        do {
            let backend = try GPUBackend(model: model, device: device, kvMemoryBytes: 1 << 20, maxPassTokens: 4)
            #expect(device.liveAllocations.bytes >= backend.counters.weightBytes)
        }
        #expect(device.liveAllocations.count == 0 && device.counters.strayFrees == 0)
    }

    /// Past the limit, the least recently used recording is updated into the new shape; a kept shape is
    /// replayed without recording.
    @Test func recordingsPastTheLimitReplaceTheLeastRecentlyUsed() throws {
        let device = EmulatedDevice(capacity: 1 << 20)
        var cache = RecordingCache(limit: 2), recorded = 0
        let shapes = (1...3).map { RecordingCache.Shape(tokens: $0, outputs: 1) }
        func step(_ i: Int) throws -> Bool {
            try cache.step(for: shapes[i], device: device) { () throws(InferenceError) in recorded += 1 }.new
        }
        #expect(try step(0) && step(1))
        #expect(try !step(0))  // kept: shape 1 is now the least recently used
        #expect(try step(2))
        #expect(cache.count == 2 && cache.contains(shapes[0]) && cache.contains(shapes[2]) && !cache.contains(shapes[1]))
        #expect(recorded == 3 && device.counters.steps == 3)
        cache.removeAll(device)
        #expect(cache.count == 0)
    }

    /// Where a CUDA device is present, the parity tests' device list holds it besides the emulator and a
    /// backend on the real model opens on it; elsewhere this skips, saying the GPU half did not run.
    @Test(.enabled(if: GPUUnderTest.device != nil, "no CUDA device (\(GPUUnderTest.reason)): the GPU parity tests ran on the emulator only"))
    func parityTestsAlsoRunOnTheGPU() throws {
        let gpu = try #require(GPUFixture.devices.dropFirst().first)
        let backend = try #require(GPUFixture.backend(on: gpu), "no GPUBackend on \(gpu)")
        #expect(backend.kvLayout.blockCount == GPUFixture.blockCount && backend.counters.weightBytes > 90_000_000)
    }
}
