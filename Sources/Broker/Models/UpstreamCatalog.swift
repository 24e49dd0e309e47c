import Inference
import Specs

extension ModelCatalog {
    /// This catalog's models plus the upstream models of `serving`. Each upstream provider is made
    /// now (API keys read, URLs built), so a bad configuration fails at startup; a configured name
    /// the catalog already serves is an error (one name, one model).
    public func adding(_ serving: ModelServing,
                       environment: (String) -> String? = UpstreamTarget.processEnvironment) throws(BrokerError) -> ModelCatalog {
        var all = factories
        for model in serving.models {
            guard all[model.name] == nil else {
                throw BrokerError(.invalidRequest, "\(serving.file): the upstream model \"\(model.name)\" is already served by this broker")
            }
            all[model.name] = Self.serving(try UpstreamModelProvider(model, environment: environment))
        }
        return ModelCatalog(all)
    }

    /// A factory that hands out an already-made provider. (Made here rather than as a literal in
    /// `adding`'s typed-throws loop: that literal crashed when called, a Swift 6.0 miscompile.)
    static func serving(_ provider: any ModelProvider) -> Factory {
        { () throws(BrokerError) -> any ModelProvider in provider }
    }
}

extension PoolConfiguration {
    /// The pool's defaults with the configuration file's `pool` settings applied.
    public init(_ settings: ModelServing.PoolSettings) {
        self.init()
        if let bytes = settings.kvMemoryBytes { kvMemoryBytes = Int(clamping: bytes) }
        if let value = settings.blockSize { blockSize = value }
        if let value = settings.maxBatchTokens { maxBatchTokens = value }
        if let value = settings.maxRunningSequences { maxRunningSequences = value }
        if let value = settings.maxQueuedPerAgent { maxQueuedPerAgent = value }
        if let value = settings.maxQueuedTotal { maxQueuedTotal = value }
        if let value = settings.prefixCaching { prefixCaching = value }
        if let value = settings.minWorkers { minWorkers = value }
        if let value = settings.maxWorkers { maxWorkers = value }
        // One bound given alone still leaves min ≤ max.
        if settings.minWorkers != nil && settings.maxWorkers == nil { maxWorkers = max(maxWorkers, minWorkers) }
        if settings.maxWorkers != nil && settings.minWorkers == nil { minWorkers = min(minWorkers, maxWorkers) }
        if maxQueuedPerAgent > maxQueuedTotal {
            if settings.maxQueuedTotal == nil { maxQueuedTotal = maxQueuedPerAgent } else { maxQueuedPerAgent = maxQueuedTotal }
        }
        if let value = settings.scaleUpQueueWaitMilliseconds { scaleUpQueueWait = .milliseconds(value) }
        if let value = settings.idleReleaseMilliseconds { idleRelease = .milliseconds(value) }
        switch settings.devices {
        case nil: break
        case .auto?: devices = .auto
        case .cpu?: devices = .cpu
        case .gpus(let ordinals)?: devices = .gpus(ordinals)
        }
        devicesSource = settings.devicesSource
    }
}
