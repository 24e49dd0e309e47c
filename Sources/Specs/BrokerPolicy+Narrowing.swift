/// A spec's `broker` section: it may only narrow the policy's (fewer models, lower caps, fewer tools,
/// lower rates, budget and concurrency) and declares the MCP servers the agent brings.
///
/// ```
/// "broker": {
///   "models": [{"name": "smollm2-135m", "maxTokensPerRequest": 128}],   // subset; cap optional
///   "tools": ["fs.read", "notes.add"],                                   // subset, by name (notes.* covers notes.add)
///   "rateLimits": {"requestsPerMinute": 60},
///   "tokenBudget": 10000, "maxConcurrent": 2,
///   "mcpServers": [{"name": "notes", "command": ["/usr/bin/python3", "/agent/notes_server.py"], "environment": {}}]
/// }
/// ```
extension BrokerPolicy {
    /// This policy narrowed by a spec's broker section; anything looser is a `.loosensPolicy` error at the value.
    func narrowed(by reader: JSONReader, policyFile: String) throws(SpecError) -> (BrokerPolicy, [AgentSpec.MCPServer]) {
        let object: JSONObjectReader
        do { object = try reader.object(keys: Self.specKeys) } catch { throw SpecError(error) }
        var result = self
        func looser(_ at: JSONReader, _ what: String) -> SpecError {
            at.specError("\(what) loosens the policy (\(policyFile)); a spec's broker section may only narrow it", code: .loosensPolicy)
        }
        if let modelsReader = object.optional("models") { result.models = try narrowedModels(modelsReader, looser) }
        if let toolsReader = object.optional("tools") { result.tools = try narrowedTools(toolsReader, looser) }
        if let limitsReader = object.optional("rateLimits") { result.rateLimits = try narrowedRates(limitsReader, looser) }
        if let budgetReader = object.optional("tokenBudget") {
            let asked = try budgetReader.count(in: Bounds.tokenBudget)
            result.tokenBudget = try Self.lower(asked, than: tokenBudget) { looser(budgetReader, "tokenBudget \($0) (policy: \($1))") }
        }
        if let concurrentReader = object.optional("maxConcurrent") {
            let asked = try concurrentReader.count(in: Bounds.maxConcurrent)
            guard asked <= maxConcurrent else { throw looser(concurrentReader, "maxConcurrent \(asked) (policy: \(maxConcurrent))") }
            result.maxConcurrent = asked
        }
        if let inferenceReader = object.optional("inference") { result.inference = try inference.narrowed(by: inferenceReader, looser) }
        let servers = try object.optional("mcpServers").map { r throws(SpecError) in try AgentSpec.MCPServer.readList(r) } ?? []
        return (result, servers)
    }

    typealias Looser = (JSONReader, String) -> SpecError

    /// The spec's models: each allowed by the policy, with a cap no higher than the policy's.
    func narrowedModels(_ reader: JSONReader, _ looser: Looser) throws(SpecError) -> [ModelRule] {
        var result: [ModelRule] = []
        for asked in try Self.readModels(reader, requireLimit: false) {
            guard let allowed = models.first(where: { $0.name == asked.rule.name }) else {
                throw looser(asked.at, "model \"\(asked.rule.name)\" is not allowed by the policy, so it")
            }
            if asked.limitGiven, asked.rule.maxTokensPerRequest > allowed.maxTokensPerRequest {
                throw looser(asked.at, "maxTokensPerRequest \(asked.rule.maxTokensPerRequest) (policy: \(allowed.maxTokensPerRequest))")
            }
            result.append(asked.limitGiven ? asked.rule : allowed)
        }
        return result
    }

    /// The spec's tools, by name: each one the policy allows, with the policy's rule.
    func narrowedTools(_ reader: JSONReader, _ looser: Looser) throws(SpecError) -> [ToolRule] {
        var result: [ToolRule] = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let name = try element.text()
            // An exact rule first; else a `server.*` rule narrowed to the one tool (keeping its constraints).
            guard let rule = tools.first(where: { $0.name == name }) ?? tools.lazy.compactMap({ $0.narrowed(to: name) }).first else {
                throw looser(element, "tool \"\(name)\" is not allowed by the policy, so it")
            }
            if result.contains(where: { $0.name == name }) { throw element.specError("tool \"\(name)\" is listed twice") }
            result.append(rule)
        }
        return result
    }

    /// The spec's rates: each at most the policy's.
    func narrowedRates(_ reader: JSONReader, _ looser: Looser) throws(SpecError) -> RateLimits {
        let asked = try Self.readRateLimits(reader)
        let members = (try? reader.anyObject())?.members ?? []
        func at(_ key: String) -> JSONReader { members.first { $0.key == key }?.reader ?? reader }
        var result = rateLimits
        result.requestsPerMinute = try Self.lower(asked.requestsPerMinute, than: rateLimits.requestsPerMinute) {
            looser(at("requestsPerMinute"), "requestsPerMinute \($0) (policy: \($1))")
        }
        result.tokensPerMinute = try Self.lower(asked.tokensPerMinute, than: rateLimits.tokensPerMinute) {
            looser(at("tokensPerMinute"), "tokensPerMinute \($0) (policy: \($1))")
        }
        return result
    }

    /// `asked` when it is at most `limit` (nil: unlimited); the policy's value when nothing was asked.
    static func lower(_ asked: Int?, than limit: Int?, _ fail: (Int, Int) -> SpecError) throws(SpecError) -> Int? {
        guard let asked else { return limit }
        if let limit, asked > limit { throw fail(asked, limit) }
        return asked
    }
}

extension AgentSpec {
    /// An external MCP server the agent brings (stdio), launched in its own sandbox by the broker;
    /// its tools appear as `name.tool`.
    public struct MCPServer: Sendable, Equatable {
        /// The server's name: the prefix of its tools (`notes` -> `notes.add`).
        public var name: String
        /// argv; `command[0]` is an absolute path inside the server's sandbox.
        public var command: [String]
        /// The server's complete environment, in spec order.
        public var environment: [EnvironmentVariable]

        public init(name: String, command: [String], environment: [EnvironmentVariable] = []) {
            self.name = name; self.command = command; self.environment = environment
        }

        static func readList(_ reader: JSONReader) throws(SpecError) -> [MCPServer] {
            let elements: [JSONReader]
            do { elements = try reader.array() } catch { throw SpecError(error) }
            var servers: [MCPServer] = []
            for element in elements {
                let object: JSONObjectReader, nameReader: JSONReader, commandReader: JSONReader
                do {
                    object = try element.object(keys: ["name", "command", "environment"])
                    nameReader = try object.required("name")
                    commandReader = try object.required("command")
                } catch { throw SpecError(error) }
                let name = try nameReader.name()
                if name.contains(".") { throw nameReader.specError("\"\(name)\": a server name must not contain '.' (its tools are named \(name).TOOL)") }
                if servers.contains(where: { $0.name == name }) { throw nameReader.specError("MCP server \"\(name)\" is declared twice") }
                servers.append(MCPServer(name: name, command: try AgentSpec.readEntrypoint(commandReader),
                                         environment: try AgentSpec.readEnvironment(object.optional("environment"))))
            }
            return servers
        }
    }
}
