/// A policy's `broker` section: what an agent may ask of the broker (models, tools, rates, budget)
/// and the guardrails on what goes in and out. An agent spec's `broker` section may only narrow it.
///
/// ```
/// "broker": {
///   "port": 8080,                                         // 127.0.0.1:PORT inside the agent's netns
///   "models": [{"name": "smollm2-135m", "maxTokensPerRequest": 512}],
///   "tools": [{"name": "fs.read", ...}, ...],               // ToolRule
///   "rateLimits": {"requestsPerMinute": 600, "tokensPerMinute": 60000},
///   "tokenBudget": 200000,                                  // per run, prompt + completion
///   "maxConcurrent": 4,
///   "guardrails": {...},                                    // GuardrailSettings
///   "inference": {"weight": 1, "priority": "interactive"}  // InferenceShare: the pool's fair share
/// }
/// ```
public struct BrokerPolicy: Sendable {
    /// One model the agent may call, with its per-request completion cap.
    public struct ModelRule: Sendable, Equatable {
        public var name: String
        public var maxTokensPerRequest: Int
        public init(name: String, maxTokensPerRequest: Int) { self.name = name; self.maxTokensPerRequest = maxTokensPerRequest }
    }

    /// Requests (model calls and tool calls together) and tokens per minute, per agent run.
    public struct RateLimits: Sendable, Equatable {
        public var requestsPerMinute: Int?
        public var tokensPerMinute: Int?
        public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        }
    }

    /// The loopback port the broker listens on inside the agent's network namespace.
    public var port: UInt16
    public var models: [ModelRule]
    public var tools: [ToolRule]
    public var rateLimits: RateLimits
    /// Tokens (prompt + completion) the whole run may spend; nil: unlimited.
    public var tokenBudget: Int?
    /// Broker calls of one run in flight at once.
    public var maxConcurrent: Int
    public var guardrails: GuardrailSettings
    /// The run's share of the inference pool.
    public var inference: InferenceShare

    public init(port: UInt16 = 8080, models: [ModelRule] = [], tools: [ToolRule] = [], rateLimits: RateLimits = .init(),
                tokenBudget: Int? = nil, maxConcurrent: Int = 4, guardrails: GuardrailSettings = .init(),
                inference: InferenceShare = .init()) {
        self.port = port; self.models = models; self.tools = tools; self.rateLimits = rateLimits
        self.tokenBudget = tokenBudget; self.maxConcurrent = maxConcurrent; self.guardrails = guardrails
        self.inference = inference
    }
}
