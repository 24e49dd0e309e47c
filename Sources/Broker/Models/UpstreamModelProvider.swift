import Inference
import Specs
import Synchronization

/// Counters of an upstream provider, for the supervisor's metrics and for tests.
public struct UpstreamStatistics: Sendable, Equatable {
    /// `complete` calls.
    public var calls = 0
    /// HTTP attempts started, over all endpoints.
    public var attempts = 0
    /// Attempts beyond the first at the same endpoint.
    public var retries = 0
    /// Moves to a later endpoint after one failed.
    public var fallbacks = 0
    /// Calls that ended in an error.
    public var failures = 0
    /// Calls stopped by `isCancelled`.
    public var cancellations = 0
    /// Calls whose usage was estimated (the upstream reported none).
    public var estimatedUsage = 0
    /// Attempts per endpoint, in configuration order.
    public var attemptsPerEndpoint: [Int] = []
}

/// A model served by OpenAI-compatible HTTP servers (vLLM, llama.cpp's server, hosted APIs behind
/// a local TLS proxy): each call streams from the first endpoint that works, passing text through
/// as it arrives. Retries with backoff at one endpoint on connection errors, timeouts, 5xx and 429
/// (UpstreamBackoff), then falls back to the next endpoint; never retries once text has reached the
/// caller (it already holds part of an answer a second try would not reproduce).
public final class UpstreamModelProvider: ModelProvider {
    public let providerName = "upstream"
    /// The name policies use.
    public let name: String
    public let contextLength: Int
    /// In fallback order.
    public let endpoints: [UpstreamTarget]
    private let counters: Mutex<UpstreamStatistics>
    /// The calls in progress, by agent, so that `cancelAll` can stop a run's calls when it ends.
    private let inFlight = Mutex<[(agent: String, flag: CancelFlag)]>([])

    /// Set once a call's agent is cancelled; read between reads of the upstream stream.
    final class CancelFlag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    public init(name: String, contextLength: Int, endpoints: [UpstreamTarget]) {
        self.name = name; self.contextLength = contextLength; self.endpoints = endpoints
        var initial = UpstreamStatistics()
        initial.attemptsPerEndpoint = Array(repeating: 0, count: endpoints.count)
        counters = Mutex(initial)
    }

    /// The provider for a configured upstream model (API keys read from `environment` now).
    public convenience init(_ model: ModelServing.UpstreamModel,
                            environment: (String) -> String? = UpstreamTarget.processEnvironment) throws(BrokerError) {
        var targets: [UpstreamTarget] = []
        for endpoint in model.endpoints { targets.append(try UpstreamTarget(endpoint, modelName: model.name, environment: environment)) }
        self.init(name: model.name, contextLength: model.contextLength, endpoints: targets)
    }

    /// A snapshot of the counters.
    public var statistics: UpstreamStatistics { counters.withLock { $0 } }

    /// No tokenizer for an upstream model: the count is UpstreamWire's estimate (a quarter of the
    /// ASCII bytes plus one per other character, 4 per message, 3 for the reply), used for admission.
    public func prepare(_ messages: [ChatMessage]) throws(BrokerError) -> ModelPrompt {
        ModelPrompt(messages: messages, tokens: [], tokenCount: UpstreamWire.estimateTokens(messages))
    }

    public func complete(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: () -> Bool,
                         onText: (String) -> Void) throws(BrokerError) -> ModelCompletion {
        counters.withLock { $0.calls += 1 }
        let flag = CancelFlag()
        inFlight.withLock { $0.append((settings.caller.agent, flag)) }
        defer { inFlight.withLock { $0.removeAll { $0.flag === flag } } }
        let stopped = { flag.raised.load(ordering: .relaxed) || isCancelled() }
        return try withoutActuallyEscaping(stopped) { isCancelled throws(BrokerError) in
            try withoutActuallyEscaping(onText) { onText throws(BrokerError) in
                do throws(BrokerError) {
                    return try run(prompt, settings: settings, isCancelled: isCancelled, onText: onText)
                } catch {
                    counters.withLock { $0.failures += 1 }
                    throw error
                }
            }
        }
    }

    /// Stops every call of `agent` in progress (its run ended): each closes its upstream connection
    /// and returns what it had, finished `.cancelled`.
    public func cancelAll(agent: String) {
        inFlight.withLock { calls in
            for call in calls where call.agent == agent { call.flag.raised.store(true, ordering: .relaxed) }
        }
    }

    /// The endpoints in order, each with its retries.
    private func run(_ prompt: ModelPrompt, settings: GenerationSettings, isCancelled: @escaping () -> Bool,
                     onText: @escaping (String) -> Void) throws(BrokerError) -> ModelCompletion {
        var failures: [(target: UpstreamTarget, failure: UpstreamFailure, attempts: Int)] = []
        var random = SystemRandomNumberGenerator()
        let deadline = settings.caller.deadline
        for (index, target) in endpoints.enumerated() {
            if index > 0 { counters.withLock { $0.fallbacks += 1 } }
            if let deadline, .now >= deadline, let last = failures.last {
                throw BrokerError(.deadlineExceeded, "the request's deadline passed before \(target.label) was tried; "
                                  + "\(last.target.label) failed: \(last.failure.message)")
            }
            let body = UpstreamWire.requestBody(model: target.model, messages: prompt.messages, settings: settings)
            var attempts = 0
            while true {
                attempts += 1
                counters.withLock { $0.attempts += 1; $0.attemptsPerEndpoint[index] += 1; if attempts > 1 { $0.retries += 1 } }
                let attempt = UpstreamAttempt(target: target, body: body, deadline: deadline, isCancelled: isCancelled, onText: onText)
                let failure: UpstreamFailure
                do throws(UpstreamFailure) {
                    return completion(try attempt.run(), prompt: prompt)
                } catch {
                    failure = error
                }
                if let error = Self.finalError(failure, textSent: attempt.textSent, target: target) { throw error }
                let delay = Self.delay(after: failure, attempts: attempts, target: target, random: &random)
                // A wait past the caller's deadline is pointless here: the next endpoint may still answer in time.
                let fitsDeadline = deadline.map { .now + .milliseconds(delay) < $0 } ?? true
                guard failure.retriesSameEndpoint, attempts <= target.retries, delay <= UpstreamBackoff.maxRetryAfterMilliseconds,
                      fitsDeadline else {
                    failures.append((target, failure, attempts))
                    break
                }
                if !UpstreamBackoff.sleep(milliseconds: delay, isCancelled: isCancelled) {
                    return completion(UpstreamStreamResult(cancelled: true), prompt: prompt)
                }
            }
        }
        throw exhausted(failures)
    }

    /// The error that ends the call at once, with no retry and no fallback: the caller's deadline,
    /// a failure after text was passed on, or a request the upstream refused as malformed.
    static func finalError(_ failure: UpstreamFailure, textSent: Bool, target: UpstreamTarget) -> BrokerError? {
        if failure.kind == .deadline {
            return BrokerError(.deadlineExceeded, "the upstream \(target.label) did not finish before the request's deadline: \(failure.message)")
        }
        if textSent {
            return BrokerError(.internalError, "the upstream \(target.label) failed after part of the answer was sent: "
                               + "\(failure.message); not retried (the client already has the beginning)")
        }
        return failure.isRequestFault ? requestError(failure, target: target) : nil
    }

    /// The wait before retry `attempts` (1-based): what the upstream asked for, else the backoff.
    static func delay(after failure: UpstreamFailure, attempts: Int, target: UpstreamTarget,
                      random: inout SystemRandomNumberGenerator) -> Int {
        if let asked = failure.retryAfterMilliseconds { return asked }
        let jitter = Double(random.next() % 1_000_001) / 1_000_000
        return UpstreamBackoff.delay(retry: attempts, base: target.backoffMilliseconds, cap: target.maxBackoffMilliseconds, jitter: jitter)
    }

    /// The model's result: usage as the upstream reported it, else estimated (and flagged).
    private func completion(_ result: UpstreamStreamResult, prompt: ModelPrompt) -> ModelCompletion {
        let finish: ModelCompletion.Finish = result.cancelled ? .cancelled : result.finishReason == "length" ? .length : .stop
        if result.cancelled { counters.withLock { $0.cancellations += 1 } }
        if let usage = result.usage {
            return ModelCompletion(text: result.text, promptTokens: usage.prompt, completionTokens: usage.completion, finish: finish)
        }
        counters.withLock { $0.estimatedUsage += 1 }
        return ModelCompletion(text: result.text, promptTokens: prompt.tokenCount,
                               completionTokens: UpstreamWire.estimateTokens(result.text), finish: finish, usageEstimated: true)
    }

    /// A 400/413/422: the caller's request, as the upstream explained it.
    static func requestError(_ failure: UpstreamFailure, target: UpstreamTarget) -> BrokerError {
        let message = "the upstream \(target.label) refused the request: \(failure.message)"
        let lowered = failure.message.lowercased()
        if failure.status == 413 || (lowered.contains("context") && (lowered.contains("length") || lowered.contains("maximum"))) {
            return BrokerError(.contextLengthExceeded, message)
        }
        return BrokerError(.invalidRequest, message)
    }

    /// Every endpoint failed: a 429 everywhere is a rate limit the caller may retry after the
    /// longest wait asked; anything else is "unavailable" (503) naming each endpoint's last failure.
    private func exhausted(_ failures: [(target: UpstreamTarget, failure: UpstreamFailure, attempts: Int)]) -> BrokerError {
        let detail = failures.map { "\($0.target.label): \($0.failure.message) (\($0.attempts) attempt\($0.attempts == 1 ? "" : "s"))" }
        if failures.isEmpty { return BrokerError(.modelUnavailable, "the upstream model \"\(name)\" has no endpoints") }
        let text = "the upstream model \"\(name)\" failed at every endpoint: " + detail.joined(separator: "; ")
        if !failures.isEmpty, failures.allSatisfy({ $0.failure.status == 429 }) {
            let wait = failures.compactMap(\.failure.retryAfterMilliseconds).max() ?? 1000
            return BrokerError(.rateLimited, text, retryAfterMilliseconds: max(wait, 1))
        }
        return BrokerError(.modelUnavailable, text)
    }
}
