/// The model-serving configuration: how the local inference pool is sized and scheduled, and which
/// upstream OpenAI-compatible servers (vLLM, llama.cpp's server, hosted APIs behind a local TLS
/// proxy) serve which model names. Read strictly (DESIGN decision 2): an unknown key, a wrong type
/// or a value out of range is an error naming file:line:column and the JSON path.
///
///     {
///       "pool": {"kvMemory": "256MiB", "blockSize": 16, "workers": {"min": 1, "max": 2}, "devices": "auto"},
///       "models": {
///         "qwen-7b": {"endpoints": [
///           {"url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen2.5-7B-Instruct",
///            "timeouts": {"firstByteMs": 30000}, "retries": 2, "backoffMs": 200},
///           {"url": "http://10.0.0.7:8080/v1", "apiKeyEnv": "BACKUP_KEY"}
///         ]}
///       }
///     }
public struct ModelServing: Sendable, Equatable {
    /// The file the configuration was read from (as given), for messages.
    public var file: String
    /// The local pool's sizing; absent keys keep the pool's defaults.
    public var pool: PoolSettings
    /// The upstream models, in file order.
    public var models: [UpstreamModel]

    public init(file: String = "<built-in>", pool: PoolSettings = .init(), models: [UpstreamModel] = []) {
        self.file = file; self.pool = pool; self.models = models
    }

    /// The pool section. Every field is optional: nil keeps the pool's own default
    /// (`Inference.PoolConfiguration`), so the defaults live in one place.
    public struct PoolSettings: Sendable, Equatable {
        /// KV cache memory per worker, in bytes (`"256MiB"` or a number in the file).
        public var kvMemoryBytes: UInt64?
        /// Positions per KV block.
        public var blockSize: Int?
        /// Tokens one scheduler step evaluates at most.
        public var maxBatchTokens: Int?
        /// Sequences running at once per worker.
        public var maxRunningSequences: Int?
        /// Requests waiting per agent before 429.
        public var maxQueuedPerAgent: Int?
        /// Requests waiting in all before 429.
        public var maxQueuedTotal: Int?
        /// Share KV blocks between requests with the same prefix.
        public var prefixCaching: Bool?
        /// `workers.min` and `workers.max`.
        public var minWorkers: Int?
        public var maxWorkers: Int?
        /// Queue wait that starts another worker, in milliseconds.
        public var scaleUpQueueWaitMilliseconds: Int?
        /// Idle time after which a worker above the minimum is stopped, in milliseconds.
        public var idleReleaseMilliseconds: Int?
        /// Where the pool runs: `"auto"`, `"cpu"` or GPU ordinals (nil: the pool's default, auto).
        public var devices: DeviceChoice?
        /// Where `devices` was written (`file:line:column: $.pool.devices`), for the error when the pool
        /// starts and a listed GPU does not exist.
        public var devicesSource: String?

        public init() {}
    }

    /// One model name served by upstream servers.
    public struct UpstreamModel: Sendable, Equatable {
        /// The name policies use (`broker.models[].name`).
        public var name: String
        /// Prompt plus completion must fit this many tokens (the broker checks its estimate against it).
        public var contextLength: Int
        /// Tried in order: when one fails after its retries, the next one is asked.
        public var endpoints: [UpstreamEndpoint]

        public init(name: String, contextLength: Int = UpstreamModel.defaultContextLength, endpoints: [UpstreamEndpoint]) {
            self.name = name; self.contextLength = contextLength; self.endpoints = endpoints
        }

        public static let defaultContextLength = 32768
    }

    /// One OpenAI-compatible server for a model.
    public struct UpstreamEndpoint: Sendable, Equatable {
        /// The base URL as written (`http://host:port/v1`); requests go to `<base>/chat/completions`.
        public var url: String
        /// The parsed URL: host (IPv6 without brackets), port, and the path without a trailing slash.
        public var host: String
        public var port: UInt16
        public var basePath: String
        /// The model id sent upstream (nil: the name policies use).
        public var model: String?
        /// The environment variable holding the API key sent as `Authorization: Bearer` (nil: none).
        public var apiKeyEnv: String?
        public var timeouts: UpstreamTimeouts
        /// Further attempts after a failed one (connection errors, timeouts before any text, 5xx, 429).
        public var retries: Int
        /// The first retry's delay; each later one doubles, up to `maxBackoffMilliseconds`.
        public var backoffMilliseconds: Int
        public var maxBackoffMilliseconds: Int

        public init(url: String, host: String, port: UInt16, basePath: String, model: String? = nil, apiKeyEnv: String? = nil,
                    timeouts: UpstreamTimeouts = .init(), retries: Int = 2, backoffMilliseconds: Int = 250,
                    maxBackoffMilliseconds: Int = 8000) {
            self.url = url; self.host = host; self.port = port; self.basePath = basePath; self.model = model
            self.apiKeyEnv = apiKeyEnv; self.timeouts = timeouts; self.retries = retries
            self.backoffMilliseconds = backoffMilliseconds; self.maxBackoffMilliseconds = maxBackoffMilliseconds
        }
    }

    /// How long one attempt at an endpoint may take, phase by phase, in milliseconds.
    public struct UpstreamTimeouts: Sendable, Equatable {
        /// Opening the TCP connection.
        public var connectMilliseconds: Int
        /// From the request sent until the first streamed event (the upstream's queueing and prefill).
        public var firstByteMilliseconds: Int
        /// The longest silence between bytes once the stream has started.
        public var idleMilliseconds: Int
        /// The whole attempt, connection to last byte.
        public var totalMilliseconds: Int

        public init(connectMilliseconds: Int = 5_000, firstByteMilliseconds: Int = 60_000, idleMilliseconds: Int = 30_000,
                    totalMilliseconds: Int = 600_000) {
            self.connectMilliseconds = connectMilliseconds; self.firstByteMilliseconds = firstByteMilliseconds
            self.idleMilliseconds = idleMilliseconds; self.totalMilliseconds = totalMilliseconds
        }
    }

    /// The upstream model named `name`, if configured.
    public func model(named name: String) -> UpstreamModel? { models.first { $0.name == name } }

    /// Loads and validates the configuration at `path`.
    public static func load(path: String) throws(SpecError) -> ModelServing {
        try read(SpecFile.load(path).reader, file: path)
    }

    /// Parses and validates a configuration from `text` (`file` names it in errors).
    public static func parse(_ text: String, file: String = "<model-serving>") throws(SpecError) -> ModelServing {
        let document: JSONDocument
        do { document = try JSONParser.parseDocument(text, file: file) } catch { throw SpecError(error) }
        return try read(document.reader, file: file)
    }
}
