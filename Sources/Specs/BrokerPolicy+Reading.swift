/// Strict reading of a policy's `broker` section and of a spec's narrowing `broker` section.
extension BrokerPolicy {
    /// The JSON keys of a policy's broker section.
    static let keys = ["port", "models", "tools", "rateLimits", "tokenBudget", "maxConcurrent", "guardrails", "inference"]
    /// The JSON keys of a spec's broker section: what it may narrow, and its own MCP servers.
    static let specKeys = ["models", "tools", "rateLimits", "tokenBudget", "maxConcurrent", "mcpServers", "inference"]

    /// Accepted ranges: zero is never a meaningful limit, and the upper bounds keep every sum and
    /// product the admission code does far from overflow.
    enum Bounds {
        static let port: ClosedRange<Int64> = 1...65_535
        static let maxTokensPerRequest: ClosedRange<Int64> = 1...1_000_000
        static let requestsPerMinute: ClosedRange<Int64> = 1...10_000_000
        static let tokensPerMinute: ClosedRange<Int64> = 1...1_000_000_000
        static let tokenBudget: ClosedRange<Int64> = 1...1_000_000_000_000
        static let maxConcurrent: ClosedRange<Int64> = 1...4096
    }

    /// Reads a policy's `broker` section.
    static func read(_ reader: JSONReader) throws(SpecError) -> BrokerPolicy {
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        var policy = BrokerPolicy()
        if let port = object.optional("port") { policy.port = UInt16(try port.count(in: Bounds.port)) }
        if let models = object.optional("models") { policy.models = try readModels(models, requireLimit: true).map(\.rule) }
        if let tools = object.optional("tools") {
            var rules: [ToolRule] = []
            let elements: [JSONReader]
            do { elements = try tools.array() } catch { throw SpecError(error) }
            for element in elements {
                let rule = try ToolRule.read(element)
                if rules.contains(where: { $0.name == rule.name }) { throw element.specError("tool \"\(rule.name)\" is listed twice") }
                rules.append(rule)
            }
            policy.tools = rules
        }
        if let limits = object.optional("rateLimits") { policy.rateLimits = try readRateLimits(limits) }
        policy.tokenBudget = try object.optional("tokenBudget")?.count(in: Bounds.tokenBudget)
        if let concurrent = object.optional("maxConcurrent") { policy.maxConcurrent = try concurrent.count(in: Bounds.maxConcurrent) }
        if let guardrails = object.optional("guardrails") { policy.guardrails = try GuardrailSettings.read(guardrails) }
        if let inference = object.optional("inference") { policy.inference = try InferenceShare.read(inference).0 }
        return policy
    }

    /// `[{"name": ..., "maxTokensPerRequest": ...}]`, names unique; a spec may leave the limit out.
    static func readModels(_ reader: JSONReader, requireLimit: Bool) throws(SpecError) -> [(rule: ModelRule, limitGiven: Bool, at: JSONReader)] {
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        var models: [(rule: ModelRule, limitGiven: Bool, at: JSONReader)] = []
        for element in elements {
            let object: JSONObjectReader, nameReader: JSONReader
            do {
                object = try element.object(keys: ["name", "maxTokensPerRequest"])
                nameReader = try object.required("name")
            } catch { throw SpecError(error) }
            let name = try nameReader.name()
            if models.contains(where: { $0.rule.name == name }) { throw nameReader.specError("model \"\(name)\" is listed twice") }
            let limitReader = object.optional("maxTokensPerRequest")
            if requireLimit, limitReader == nil {
                throw element.specError("missing required key \"maxTokensPerRequest\"", code: .schema)
            }
            let limit = try limitReader?.count(in: Bounds.maxTokensPerRequest) ?? Int(Bounds.maxTokensPerRequest.upperBound)
            models.append((ModelRule(name: name, maxTokensPerRequest: limit), limitReader != nil, limitReader ?? element))
        }
        return models
    }

    static func readRateLimits(_ reader: JSONReader) throws(SpecError) -> RateLimits {
        let object: JSONObjectReader
        do { object = try reader.object(keys: ["requestsPerMinute", "tokensPerMinute"]) } catch { throw SpecError(error) }
        return RateLimits(requestsPerMinute: try object.optional("requestsPerMinute")?.count(in: Bounds.requestsPerMinute),
                          tokensPerMinute: try object.optional("tokensPerMinute")?.count(in: Bounds.tokensPerMinute))
    }

    /// A one-paragraph description for `warden policy check`.
    public var summaryLines: [String] {
        var lines = ["port \(port) (127.0.0.1 inside the agent's network namespace)"]
        let modelText = models.map { "\($0.name) (≤\($0.maxTokensPerRequest) tokens/request)" }
        lines.append("models: " + (modelText.isEmpty ? "none" : modelText.joined(separator: ", ")))
        lines.append("tools: " + (tools.isEmpty ? "none" : tools.map(\.name).joined(separator: ", ")))
        let rpm = rateLimits.requestsPerMinute.map { "\($0) requests/min" } ?? "requests unlimited"
        let tpm = rateLimits.tokensPerMinute.map { "\($0) tokens/min" } ?? "tokens/min unlimited"
        let budget = tokenBudget.map { "budget \($0) tokens/run" } ?? "no token budget"
        lines.append("limits: \(rpm), \(tpm), \(budget), \(maxConcurrent) concurrent")
        lines.append(inference.summary)
        return lines
    }
}
