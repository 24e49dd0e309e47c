import Glibc
import Testing
import TestSupport
@testable import Specs

@Suite("Model-serving configuration")
struct ModelServingTests {
    static let good = """
    {
      "pool": {
        "kvMemory": "512MiB", "blockSize": 32, "maxBatchTokens": 512, "maxRunningSequences": 16,
        "maxQueuedPerAgent": 8, "maxQueuedTotal": 100, "prefixCaching": false,
        "workers": {"min": 1, "max": 3}, "scaleUpQueueWaitMs": 250, "idleReleaseMs": 30000
      },
      "models": {
        "qwen-7b": {
          "contextLength": 32768,
          "endpoints": [
            {"url": "http://127.0.0.1:8000/v1/", "model": "Qwen/Qwen2.5-7B-Instruct", "apiKeyEnv": "VLLM_KEY",
             "timeouts": {"connectMs": 1000, "firstByteMs": 20000, "idleMs": 5000, "totalMs": 120000},
             "retries": 3, "backoffMs": 100, "maxBackoffMs": 2000},
            {"url": "http://[::1]:8081"}
          ]
        },
        "small": {"endpoints": [{"url": "http://llama.internal/api"}]}
      }
    }
    """

    @Test("a full file decodes to the expected values")
    func goodFile() throws {
        let serving = try ModelServing.parse(Self.good, file: "serving.json")
        var pool = ModelServing.PoolSettings()
        pool.kvMemoryBytes = 512 << 20; pool.blockSize = 32; pool.maxBatchTokens = 512; pool.maxRunningSequences = 16
        pool.maxQueuedPerAgent = 8; pool.maxQueuedTotal = 100; pool.prefixCaching = false
        pool.minWorkers = 1; pool.maxWorkers = 3; pool.scaleUpQueueWaitMilliseconds = 250; pool.idleReleaseMilliseconds = 30000
        #expect(serving.pool == pool)
        #expect(serving.models.map(\.name) == ["qwen-7b", "small"])
        let qwen = try #require(serving.model(named: "qwen-7b"))
        #expect(qwen.contextLength == 32768)
        #expect(qwen.endpoints[0] == ModelServing.UpstreamEndpoint(
            url: "http://127.0.0.1:8000/v1/", host: "127.0.0.1", port: 8000, basePath: "/v1", model: "Qwen/Qwen2.5-7B-Instruct",
            apiKeyEnv: "VLLM_KEY", timeouts: .init(connectMilliseconds: 1000, firstByteMilliseconds: 20000, idleMilliseconds: 5000,
                                                   totalMilliseconds: 120000),
            retries: 3, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000))
        let second = qwen.endpoints[1]
        #expect(second.host == "::1" && second.port == 8081 && second.basePath == "" && second.model == nil)
        #expect(second.retries == 2 && second.backoffMilliseconds == 250 && second.timeouts == .init())
        let small = try #require(serving.model(named: "small"))
        #expect(small.contextLength == ModelServing.UpstreamModel.defaultContextLength)
        #expect(small.endpoints[0].port == 80 && small.endpoints[0].basePath == "/api")
    }

    @Test("the shipped example file decodes")
    func shippedExample() throws {
        let serving = try ModelServing.load(path: WardenTool.packageRoot.appendingPathComponent("Policies/models.example.json").path)
        #expect(serving.pool.kvMemoryBytes == 256 << 20 && serving.pool.prefixCaching == true)
        #expect(serving.models.map(\.name) == ["local-vllm"] && serving.models.first?.endpoints.count == 2)
    }

    @Test("an empty object is a valid file: pool defaults, no upstreams")
    func empty() throws {
        let serving = try ModelServing.parse("{}")
        #expect(serving.pool == .init() && serving.models.isEmpty)
    }

    /// (what is wrong, the file, code, line, column, JSON path, text the message must contain)
    static let badInputs: [(String, String, SpecError.Code, Int, Int, String, String)] = [
        ("unknown key", """
         {"models": {"m": {"endpoints": [
           {"url": "http://h/v1", "retires": 2}
         ]}}}
         """, .schema, 2, 26, "$.models.m.endpoints[0].retires", "did you mean \"retries\""),
        ("unknown top-level key", """
         {
           "pool": {},
           "modles": {}
         }
         """, .schema, 3, 3, "$.modles", "did you mean \"models\""),
        ("https url", """
         {"models": {
           "gpt": {"endpoints": [{"url": "https://api.openai.com/v1"}]}
         }}
         """, .invalidValue, 2, 33, "$.models.gpt.endpoints[0].url", "https is not supported: the broker's HTTP client has no TLS"),
        ("bad size string", """
         {"pool": {
           "kvMemory": "256MB"
         }}
         """, .invalidValue, 2, 15, "$.pool.kvMemory", "is not a size"),
        ("zero endpoints", """
         {"models": {
           "m": {"endpoints": []}
         }}
         """, .invalidValue, 2, 22, "$.models.m.endpoints", "at least one endpoint"),
        ("negative timeout", """
         {"models": {"m": {"endpoints": [{"url": "http://h",
           "timeouts": {"idleMs": -5}}]}}}
         """, .invalidValue, 2, 26, "$.models.m.endpoints[0].timeouts.idleMs", "-5 is out of range"),
        ("wrong type", """
         {"models": {"m": {"endpoints": [{"url": "http://h",
           "retries": "3"}]}}}
         """, .schema, 2, 14, "$.models.m.endpoints[0].retries", "expected a number, found a string"),
        ("wrong type for a flag", """
         {"pool": {"prefixCaching": "yes"}}
         """, .schema, 1, 28, "$.pool.prefixCaching", "expected true or false"),
        ("missing url", """
         {"models": {"m": {"endpoints": [{"model": "x"}]}}}
         """, .schema, 1, 33, "$.models.m.endpoints[0]", "missing required key \"url\""),
        ("missing endpoints", """
         {"models": {"m": {}}}
         """, .schema, 1, 18, "$.models.m", "missing required key \"endpoints\""),
        ("credentials in the url", """
         {"models": {"m": {"endpoints": [{"url": "http://user:pw@h/v1"}]}}}
         """, .invalidValue, 1, 41, "$.models.m.endpoints[0].url", "credentials"),
        ("bad port", """
         {"models": {"m": {"endpoints": [{"url": "http://h:99999/v1"}]}}}
         """, .invalidValue, 1, 41, "$.models.m.endpoints[0].url", "malformed port"),
        ("query in the url", """
         {"models": {"m": {"endpoints": [{"url": "http://h/v1?x=1"}]}}}
         """, .invalidValue, 1, 41, "$.models.m.endpoints[0].url", "no query"),
        ("not a url", """
         {"models": {"m": {"endpoints": [{"url": "localhost:8000"}]}}}
         """, .invalidValue, 1, 41, "$.models.m.endpoints[0].url", "is not a URL"),
        ("too many retries", """
         {"models": {"m": {"endpoints": [{"url": "http://h", "retries": 11}]}}}
         """, .invalidValue, 1, 64, "$.models.m.endpoints[0].retries", "out of range (0...10)"),
        ("backoff cap below the base", """
         {"models": {"m": {"endpoints": [{"url": "http://h", "backoffMs": 500, "maxBackoffMs": 100}]}}}
         """, .invalidValue, 1, 87, "$.models.m.endpoints[0].maxBackoffMs", "less than backoffMs"),
        ("bad model name", """
         {"models": {
           "-bad name": {"endpoints": [{"url": "http://h"}]}
         }}
         """, .invalidValue, 2, 3, "$.models[\"-bad name\"]", "not a valid model name"),
        ("names differing in case", """
         {"models": {
           "Qwen": {"endpoints": [{"url": "http://h"}]},
           "qwen": {"endpoints": [{"url": "http://h"}]}
         }}
         """, .invalidValue, 3, 3, "$.models.qwen", "only in case"),
        ("bad environment variable name", """
         {"models": {"m": {"endpoints": [{"url": "http://h", "apiKeyEnv": "1KEY"}]}}}
         """, .invalidValue, 1, 66, "$.models.m.endpoints[0].apiKeyEnv", "not an environment variable name"),
        ("workers min above max", """
         {"pool": {"workers": {"min": 4, "max": 2}}}
         """, .invalidValue, 1, 30, "$.pool.workers.min", "more than workers.max"),
        ("queue per agent above the total", """
         {"pool": {"maxQueuedPerAgent": 50, "maxQueuedTotal": 10}}
         """, .invalidValue, 1, 32, "$.pool.maxQueuedPerAgent", "more than maxQueuedTotal"),
        ("zero block size", """
         {"pool": {"blockSize": 0}}
         """, .invalidValue, 1, 24, "$.pool.blockSize", "out of range"),
    ]

    @Test("each bad input is refused at its exact position", arguments: badInputs.indices)
    func badInput(index: Int) {
        let (what, text, code, line, column, path, fragment) = Self.badInputs[index]
        do {
            let serving = try ModelServing.parse(text, file: "bad.json")
            Issue.record("\(what): accepted \(serving)")
        } catch {
            #expect(error.code == code, "\(what): \(error)")
            #expect(error.file == "bad.json" && error.line == line && error.column == column, "\(what): \(error)")
            #expect(error.path == path, "\(what): \(error)")
            #expect(error.message.contains(fragment), "\(what): \(error)")
            #expect(error.description.hasPrefix("bad.json:\(line):\(column): \(path): "), "\(what): \(error)")
        }
    }

    @Test("duplicate model names are refused by the parser")
    func duplicateNames() {
        let text = #"{"models": {"m": {"endpoints": [{"url": "http://h"}]}, "m": {"endpoints": [{"url": "http://h"}]}}}"#
        #expect(throws: SpecError.self) { try ModelServing.parse(text) }
    }

    @Test("load reads a file and names it in errors")
    func load() throws {
        let path = "/tmp/warden-serving-\(getpid()).json"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let bytes = Array(#"{"pool": {"kvMemory": "1GiB"}, "models": {"x": {"endpoints": [{"url": "https://h"}]}}}"#.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        #expect(throws: SpecError.self) { try ModelServing.load(path: path) }
        do { _ = try ModelServing.load(path: path) } catch {
            #expect(error.file == path && error.line == 1 && error.message.contains("no TLS"))
        }
    }

    @Test("mutated files never crash: each parses or fails with a located error")
    func fuzz() {
        var rng = SeededGenerator(seed: 0x5E41)
        let seed = Array(Self.good.utf8)
        var accepted = 0
        for round in 0..<600 {
            var bytes = seed
            for _ in 0...(round % 6) {
                let index = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: index)
                case 2: bytes.insert(Array("0-\"{}[]:,e.9".utf8)[Int(rng.next() % 12)], at: index)
                default: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 10)], at: index)
                }
            }
            do {
                _ = try ModelServing.parse(String(decoding: bytes, as: UTF8.self), file: "f.json")
                accepted += 1
            } catch {
                #expect(error.line > 0 && error.column > 0 && error.file == "f.json", "round \(round): \(error)")
            }
        }
        #expect(accepted < 600)
    }
}
