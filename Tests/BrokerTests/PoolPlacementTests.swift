import Foundation
import Testing
@testable import Broker
import Inference
import Specs

/// What a stand-in GPU support was asked for.
final class FakeGPUs: @unchecked Sendable {
    private let lock = NSLock()
    private var made: [(ordinal: Int, kv: Int, block: Int, maxPass: Int)] = []
    private var notices: [String] = []
    let discovery: GPUDiscovery

    init(_ discovery: GPUDiscovery) { self.discovery = discovery }

    /// Discovery as given; each "GPU" backend is a CPU backend, recorded with what it was asked.
    var support: GPUSupport {
        GPUSupport(discover: { self.discovery }) { model, ordinal, kv, block, maxPass throws(InferenceError) in
            self.lock.lock()
            self.made.append((ordinal, kv, block, maxPass))
            self.lock.unlock()
            return try CPUBackend(model: model, threads: 1, kvMemoryBytes: kv, blockSize: block)
        }
    }

    func notice(_ message: String) {
        lock.lock()
        notices.append(message)
        lock.unlock()
    }

    var backends: [(ordinal: Int, kv: Int, block: Int, maxPass: Int)] { lock.lock(); defer { lock.unlock() }; return made }
    var messages: [String] { lock.lock(); defer { lock.unlock() }; return notices }
}

@Suite("Pool placement through the broker's provider", .serialized)
struct PoolPlacementTests {
    static func ask(_ provider: PoolModelProvider, share: InferenceShare = .init()) throws -> ModelCompletion {
        let prompt = try provider.prepare([ChatMessage(role: "user", content: "Say hi.")])
        return try provider.complete(prompt, settings: GenerationSettings(maxTokens: 3, temperature: 0, caller: .starting(now: "run-1", share: share)),
                                     isCancelled: { false }, onText: { _ in })
    }

    @Test("the file's devices reach the pool configuration, with where they were written")
    func configurationCarriesDevices() throws {
        let serving = try ModelServing.parse("{\"pool\": {\"devices\": [1]}}", file: "m.json")
        let configuration = PoolConfiguration(serving.pool)
        #expect(configuration.devices == .gpus([1]) && configuration.devicesSource == "m.json:1:22: $.pool.devices")
        #expect(PoolConfiguration(try ModelServing.parse("{\"pool\": {\"devices\": \"cpu\"}}").pool).devices == .cpu)
        #expect(PoolConfiguration().devices == .auto)
    }

    @Test("GPUs found: one GPU backend per device with the pool's sizes; a policy's devices travel with the request")
    func gpuWorkers() throws {
        let path = try #require(BrokerFixture.modelPath)
        let fake = FakeGPUs(.available([.init(ordinal: 0, name: "A"), .init(ordinal: 1, name: "B")]))
        var configuration = PoolConfiguration()
        configuration.kvMemoryBytes = 8 << 20
        configuration.maxBatchTokens = 128
        configuration.devices = .gpus([1])
        let provider = try PoolModelProvider(model: try LoadedModel(path: path), configuration: configuration, threads: 1,
                                             gpu: fake.support, notice: fake.notice)
        defer { provider.shutdown() }
        #expect(provider.pool.placement.gpus == [1] && fake.messages.isEmpty)
        #expect(try Self.ask(provider, share: InferenceShare(devices: [1])).completionTokens == 3)
        let made = fake.backends
        #expect(made.count == 1 && made.first?.ordinal == 1 && made.first?.kv == 8 << 20 && made.first?.block == 16 && made.first?.maxPass == 128)
        let request = PoolModelProvider.request(ModelPrompt(messages: [], tokens: [1, 2], tokenCount: 2),
                                                GenerationSettings(maxTokens: 5, caller: .starting(now: "r", share: InferenceShare(devices: [1]))),
                                                contextLength: 8192)
        #expect(request.devices == [1])
    }

    @Test("no usable GPU: the reason goes to the notice and the pool serves on the CPU")
    func cpuFallback() throws {
        let path = try #require(BrokerFixture.modelPath)
        let fake = FakeGPUs(.unavailable(reason: "libcuda.so.1 not found"))
        var configuration = PoolConfiguration()
        configuration.kvMemoryBytes = 8 << 20
        configuration.devices = .gpus([0])
        let provider = try PoolModelProvider(model: try LoadedModel(path: path), configuration: configuration, threads: 1,
                                             gpu: fake.support, notice: fake.notice)
        defer { provider.shutdown() }
        #expect(!provider.pool.placement.usesGPUs)
        #expect(fake.messages == ["no GPU for the inference pool (libcuda.so.1 not found); it runs on the CPU"])
        #expect(try Self.ask(provider, share: InferenceShare(devices: [3])).completionTokens == 3)
        #expect(fake.backends.isEmpty)
    }

    @Test("a GPU the machine lacks is an error naming where it was configured")
    func missingGPU() throws {
        let path = try #require(BrokerFixture.modelPath)
        let fake = FakeGPUs(.available([.init(ordinal: 0, name: "A")]))
        var configuration = PoolConfiguration()
        configuration.devices = .gpus([2])
        configuration.devicesSource = "models.json:4:16: $.pool.devices"
        do {
            _ = try PoolModelProvider(model: try LoadedModel(path: path), configuration: configuration, gpu: fake.support, notice: fake.notice)
            Issue.record("a pool on a missing GPU started")
        } catch {
            #expect(error.code == .invalidConfig && error.message.hasPrefix("models.json:4:16: $.pool.devices: GPU 2 does not exist"))
        }
    }
}
