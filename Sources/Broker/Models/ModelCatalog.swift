import HostOS
import Inference
import Specs

/// The models a broker can serve, by the names policies use; each provider is made on first use
/// (loading the local model costs memory and time a run that never calls it should not pay).
public final class ModelCatalog: Sendable {
    public typealias Factory = @Sendable () throws(BrokerError) -> any ModelProvider

    let factories: [String: Factory]
    private let lock = ConditionLock()
    nonisolated(unsafe) private var made: [String: any ModelProvider] = [:]

    public init(_ factories: [String: Factory]) { self.factories = factories }

    /// The names served.
    public var names: [String] { factories.keys.sorted() }

    /// The provider for `name`, made now if it is the first call.
    public func provider(named name: String) throws(BrokerError) -> any ModelProvider {
        try lock.withLock { () throws(BrokerError) -> any ModelProvider in
            if let provider = made[name] { return provider }
            guard let factory = factories[name] else {
                throw BrokerError(.notFound, "the model \"\(name)\" is allowed by the policy but this broker does not serve it")
            }
            let provider = try factory()
            made[name] = provider
            return provider
        }
    }

    /// The standard catalog with the model-serving file at `path` applied (its pool settings and its
    /// upstream models); without a file, the standard catalog as is.
    public static func configured(path: String?, threads: Int? = nil) throws(BrokerError) -> ModelCatalog {
        guard let path else { return standard(threads: threads) }
        let serving: ModelServing
        do { serving = try ModelServing.load(path: path) } catch {
            throw BrokerError(.invalidRequest, "\(error)")
        }
        return try standard(threads: threads, pool: PoolConfiguration(serving.pool)).adding(serving)
    }

    /// Prometheus text of every provider made so far that keeps metrics (the local pool's).
    public func prometheusText(perAgent: Bool = true, openMetrics: Bool = false) -> String {
        lock.withLock { made.keys.sorted().compactMap { made[$0]?.prometheusText(perAgent: perAgent, openMetrics: openMetrics) } }.joined()
    }

    /// Stops every provider made so far (the pool's workers finish and release their memory).
    public func shutdown() {
        for provider in lock.withLock({ Array(made.values) }) { provider.shutdown() }
    }

    /// Ends every request `agent` still has with any provider made so far (its run ended).
    public func cancelAll(agent: String) {
        for provider in lock.withLock({ Array(made.values) }) { provider.cancelAll(agent: agent) }
    }

    /// The default model's name in policies.
    public static let defaultModelName = "smollm2-135m"
    /// The instant no-work model's name (benchmarks, smoke tests).
    public static let instantModelName = "warden-instant"

    /// The standard catalog: the default local model (SmolLM2-135M from the model store) served by an
    /// inference pool configured by `pool`, and the instant model.
    public static func standard(modelPath: String? = ModelLocation.defaultModelPath(), threads: Int? = nil,
                                pool: PoolConfiguration = PoolConfiguration()) -> ModelCatalog {
        ModelCatalog([
            defaultModelName: { () throws(BrokerError) -> any ModelProvider in
                guard let modelPath else { throw BrokerError(.internalError, "no model directory: set HOME or XDG_DATA_HOME") }
                do { return try PoolModelProvider(model: try LoadedModel(path: modelPath, threads: threads), configuration: pool, threads: threads) } catch {
                    throw BrokerError(.internalError, "cannot load the model: \(error)")
                }
            },
            instantModelName: { () throws(BrokerError) -> any ModelProvider in InstantModelProvider(reply: "ok") },
        ])
    }
}
