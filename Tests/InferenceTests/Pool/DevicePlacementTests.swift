import Foundation
import Testing
@testable import Inference

/// Test backends made per device: which device each worker got, and what each one evaluated.
final class DeviceBackends: @unchecked Sendable {
    private let lock = NSLock()
    private var byDevice: [WorkerDevice: PagedTestBackend] = [:]
    private var order: [WorkerDevice] = []
    let alphabet: [Int32]

    init(alphabet: [Int32]) { self.alphabet = alphabet }

    func make(_ device: WorkerDevice, kvMemoryBytes: Int, blockSize: Int) -> any InferenceBackend {
        let backend = PagedTestBackend(blockSize: blockSize, blockCount: kvMemoryBytes / 1024, alphabet: alphabet)
        lock.lock()
        defer { lock.unlock() }
        byDevice[device] = backend
        order.append(device)
        return backend
    }

    var devices: [WorkerDevice] {
        lock.lock()
        defer { lock.unlock() }
        return order
    }

    func backend(_ device: WorkerDevice) -> PagedTestBackend? {
        lock.lock()
        defer { lock.unlock() }
        return byDevice[device]
    }

    /// Whether `device`'s backend ever evaluated a sequence starting with `prompt`.
    func evaluated(_ prompt: [Int32], on device: WorkerDevice) -> Bool {
        guard let backend = backend(device) else { return false }
        return backend.recordedSteps.joined().contains { $0.start == 0 && Array(prompt.prefix($0.tokens.count)) == $0.tokens }
    }
}

@Suite("Pool placement: devices from the configuration, CPU fallback, per-device admission")
struct DevicePlacementTests {
    static let twoGPUs = GPUDiscovery.available([.init(ordinal: 0, name: "Test GPU A"), .init(ordinal: 1, name: "Test GPU B")])

    /// What the pool tests share: the tokenizer, per-device test backends, and a small paged
    /// configuration (4-token blocks, `kvMemoryBytes` of KV memory per worker).
    static func fixture(kvMemoryBytes: Int) throws -> (Tokenizer, DeviceBackends, PoolConfiguration) {
        let tokenizer = try TextFixture.tokenizer()
        var configuration = PoolConfiguration()
        configuration.blockSize = 4
        configuration.kvMemoryBytes = kvMemoryBytes
        return (tokenizer, DeviceBackends(alphabet: PoolFixture.letters(tokenizer)), configuration)
    }

    @Test("cpu never asks the driver; auto takes every GPU found")
    func cpuAndAuto() throws {
        let cpu = try DevicePlacement.resolve(.cpu) {
            Issue.record("discovery ran for a CPU pool")
            return Self.twoGPUs
        }
        #expect(cpu == .cpu && !cpu.usesGPUs && cpu.notice == nil)
        let auto = try DevicePlacement.resolve(.auto) { Self.twoGPUs }
        #expect(auto.gpus == [0, 1] && auto.notice == nil)
    }

    @Test("no driver or no device: CPU with an info notice, for auto and for an explicit list alike")
    func fallback() throws {
        let reason = "libcuda.so.1 not found (no NVIDIA driver)"
        for choice in [PoolDevices.auto, .gpus([0, 1])] {
            let placement = try DevicePlacement.resolve(choice) { .unavailable(reason: reason) }
            #expect(placement.gpus.isEmpty)
            #expect(placement.notice?.contains(reason) == true && placement.notice?.contains("runs on the CPU") == true)
            let none = try DevicePlacement.resolve(choice) { .available([]) }
            #expect(none.gpus.isEmpty && none.notice?.contains("runs on the CPU") == true)
        }
    }

    @Test("chosen GPUs are kept in the order given; a GPU the machine lacks is a configuration error naming it and the file")
    func explicitList() throws {
        let chosen = try DevicePlacement.resolve(.gpus([1])) { Self.twoGPUs }
        #expect(chosen.gpus == [1])
        do {
            _ = try DevicePlacement.resolve(.gpus([0, 3]), source: "models.json:3:16: $.pool.devices") { Self.twoGPUs }
            Issue.record("GPU 3 was accepted")
        } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.hasPrefix("models.json:3:16: $.pool.devices: GPU 3 does not exist"), "\(error.message)")
            #expect(error.message.contains("GPU 0 (Test GPU A), GPU 1 (Test GPU B)"))
        }
    }

    @Test("one worker per GPU, started at once whatever workers.min and workers.max say")
    func workerPerGPU() throws {
        let (tokenizer, backends, small) = try Self.fixture(kvMemoryBytes: 64 * 1024)
        var configuration = small
        configuration.minWorkers = 0
        configuration.maxWorkers = 1
        let pool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: DevicePlacement(gpus: [1, 0])) { device, kv, block in
            backends.make(device, kvMemoryBytes: kv, blockSize: block)
        }
        defer { pool.shutdown() }
        #expect(PoolFixture.eventually { backends.devices.count == 2 })
        #expect(Set(backends.devices) == [.gpu(0), .gpu(1)])
        #expect(pool.metrics().workers == 2)
    }

    @Test("a policy's devices keep its requests on those GPUs' workers; others run anywhere")
    func routing() throws {
        let (tokenizer, backends, small) = try Self.fixture(kvMemoryBytes: 256 * 1024)
        var configuration = small
        configuration.maxRunningSequences = 2
        let pool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: DevicePlacement(gpus: [0, 1])) { device, kv, block in
            backends.make(device, kvMemoryBytes: kv, blockSize: block)
        }
        defer { pool.shutdown() }
        #expect(PoolFixture.eventually { backends.devices.count == 2 })
        // PoolFixture's prompts depend on the seed modulo 26: these sixteen are all different.
        let pinned = (0..<8).map { PoolFixture.prompt(6, seed: 1 + $0, tokenizer) }
        let free = (0..<8).map { PoolFixture.prompt(6, seed: 11 + $0, tokenizer) }
        #expect(Set(pinned + free).count == 16)
        var tickets: [PoolTicket] = []
        for (a, b) in zip(pinned, free) {
            tickets.append(try pool.submit(PoolRequest(agent: "pinned", generation: GenerationRequest(prompt: a, maxTokens: 6), devices: [1])))
            tickets.append(try pool.submit(PoolRequest(agent: "free", generation: GenerationRequest(prompt: b, maxTokens: 6))))
        }
        for ticket in tickets { #expect(PoolFixture.drain(ticket).end?.completion != nil) }
        for prompt in pinned {
            #expect(backends.evaluated(prompt, on: .gpu(1)) && !backends.evaluated(prompt, on: .gpu(0)))
        }
        #expect(free.allSatisfy { backends.evaluated($0, on: .gpu(0)) || backends.evaluated($0, on: .gpu(1)) })
    }

    @Test("a GPU whose backend cannot start: the operator hears it once, requests pinned to it fail with the reason, others run on the other GPU")
    func workerStartFailure() throws {
        let (tokenizer, backends, configuration) = try Self.fixture(kvMemoryBytes: 64 * 1024)
        let notices = NoticeLog(), attempts = NoticeLog()
        let pool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: DevicePlacement(gpus: [0, 1]),
                                 notice: notices.append) { (device, kv, block) throws(InferenceError) in
            if device == .gpu(1) {
                attempts.append("start")
                throw InferenceError(.deviceFailure, "cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY")
            }
            return backends.make(device, kvMemoryBytes: kv, blockSize: block)
        }
        defer { pool.shutdown() }
        let prompt = PoolFixture.prompt(5, seed: 3, tokenizer)
        let pinned = try pool.submit(PoolRequest(agent: "pinned", generation: GenerationRequest(prompt: prompt, maxTokens: 2), devices: [1]))
        let free = try pool.submit(PoolRequest(agent: "free", generation: GenerationRequest(prompt: prompt, maxTokens: 2)))
        let failure = PoolFixture.drain(pinned).end?.error
        #expect(failure?.code == .unavailable && failure?.message.contains("CUDA_ERROR_OUT_OF_MEMORY") == true, "\(String(describing: failure))")
        #expect(PoolFixture.drain(free).end?.completion?.result.tokens == PagedTestBackend.reference(prompt, maxTokens: 2, alphabet: backends.alphabet))
        // The control thread retries every second; the same failure is not reported again.
        #expect(PoolFixture.eventually { attempts.messages.count >= 3 })
        #expect(notices.messages.count == 1 && notices.messages[0].contains("cuda:1") && notices.messages[0].contains("OUT_OF_MEMORY"), "\(notices.messages)")
    }

    @Test("a request allowed only on GPUs the pool does not use fails at submit; a CPU pool ignores devices")
    func unreachableDevices() throws {
        let (tokenizer, backends, configuration) = try Self.fixture(kvMemoryBytes: 64 * 1024)
        let make: PoolBackendFactory = { device, kv, block in backends.make(device, kvMemoryBytes: kv, blockSize: block) }
        let gpuPool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: DevicePlacement(gpus: [0]), makeBackend: make)
        defer { gpuPool.shutdown() }
        let prompt = PoolFixture.prompt(5, seed: 1, tokenizer)
        do {
            _ = try gpuPool.submit(PoolRequest(agent: "a", generation: GenerationRequest(prompt: prompt, maxTokens: 2), devices: [2, 3]))
            Issue.record("a request for GPUs 2 and 3 was queued on a pool on GPU 0")
        } catch {
            #expect(error.code == .unavailable && error.message.contains("GPUs 2, 3") && error.message.contains("runs on GPUs 0"))
        }
        let cpuPool = InferencePool(configuration: configuration, tokenizer: tokenizer, placement: .cpu, makeBackend: make)
        defer { cpuPool.shutdown() }
        let ticket = try cpuPool.submit(PoolRequest(agent: "a", generation: GenerationRequest(prompt: prompt, maxTokens: 2), devices: [2]))
        #expect(PoolFixture.drain(ticket).end?.completion?.result.tokens == PagedTestBackend.reference(prompt, maxTokens: 2, alphabet: backends.alphabet))
    }

    @Test("the fair queue skips an agent whose next job a worker may not run, and serves the next agent")
    func queueSkipsIneligible() throws {
        var queue = FairQueueTests.queue()
        let pinned = try FairQueueTests.job("pinned", id: 1)
        let other = try FairQueueTests.job("other", id: 2)
        queue.enqueue(pinned)
        queue.enqueue(other)
        let onGPU0: (PoolJob) -> Bool = { $0.agent != "pinned" }
        #expect(queue.peek(where: onGPU0) === other)
        #expect(queue.dequeue(where: onGPU0) === other)
        #expect(queue.peek(where: onGPU0) == nil)
        #expect(queue.dequeue() === pinned)
    }
}

/// Notices a pool sends, in order.
final class NoticeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    @Sendable func append(_ message: String) { lock.lock(); stored.append(message); lock.unlock() }
    var messages: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
