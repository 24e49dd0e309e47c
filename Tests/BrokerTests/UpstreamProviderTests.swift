import Foundation
import HTTPServer
import Inference
import Specs
import Synchronization
import Testing
@testable import Broker

/// The upstream provider against a fake OpenAI-compatible server on a real loopback socket:
/// streaming and usage, retries and their bounds, fallback order, timeouts, cancellation.
@Suite("Upstream provider")
struct UpstreamProviderTests {
    typealias B = FakeOpenAIServer.Behaviour

    /// What one call produced: the pieces passed to onText, and the completion or the error.
    struct Outcome {
        var pieces: [String]
        var result: Result<ModelCompletion, BrokerError>
        var completion: ModelCompletion? { try? result.get() }
        var error: BrokerError? { if case .failure(let error) = result { return error }; return nil }
    }

    static let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Say hello.")]

    static func call(_ provider: UpstreamModelProvider, messages: [ChatMessage] = messages, cancelAfterPieces: Int? = nil,
                     deadline: ContinuousClock.Instant? = nil) -> Outcome {
        var pieces: [String] = []
        let result: Result<ModelCompletion, BrokerError>
        do {
            let prompt = try provider.prepare(messages)
            let settings = GenerationSettings(maxTokens: 32, temperature: 0.5, seed: 42, caller: ModelCaller(agent: "a", deadline: deadline))
            result = .success(try provider.complete(prompt, settings: settings,
                                                    isCancelled: { cancelAfterPieces.map { pieces.count >= $0 } ?? false },
                                                    onText: { pieces.append($0) }))
        } catch {
            result = .failure(error)
        }
        return Outcome(pieces: pieces, result: result)
    }

    @Test("a streamed answer passes through piece by piece, with the upstream's usage and model id")
    func streamsWithUsage() throws {
        let fake = try FakeOpenAIServer([.answer(["Hel", "lo", " there"], usage: (23, 3))])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, extra: #""apiKeyEnv": "FAKE_KEY""#)],
                                                    environment: { $0 == "FAKE_KEY" ? "sk-test-1" : nil })
        let outcome = Self.call(provider)
        #expect(outcome.pieces == ["Hel", "lo", " there"])
        let completion = try #require(outcome.completion)
        #expect(completion == ModelCompletion(text: "Hello there", promptTokens: 23, completionTokens: 3, finish: .stop))
        #expect(!completion.usageEstimated)
        let request = try #require(fake.requests.first)
        #expect(request.headers["authorization"] == "Bearer sk-test-1")
        let body = try JSONParser.parse(request.body)
        #expect(body["model"]?.string == "upstream-id")
        #expect(body["stream"] == .bool(true))
        #expect(body["stream_options"]?["include_usage"] == .bool(true))
        #expect(body["max_tokens"]?.int == 32 && body["seed"]?.int == 42)
        #expect(body["messages"]?[1]?["content"]?.string == "Say hello.")
        #expect(provider.statistics.attempts == 1 && provider.statistics.retries == 0)
    }

    @Test("no usage from the upstream: estimated, and flagged as such")
    func estimatedUsage() throws {
        let fake = try FakeOpenAIServer([.answer(["abcd", "efgh"], usage: nil, finish: "length")])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)])
        let completion = try #require(Self.call(provider).completion)
        #expect(completion.usageEstimated && completion.finish == .length)
        #expect(completion.completionTokens == 2)
        #expect(completion.promptTokens == (try provider.prepare(Self.messages)).tokenCount)
        #expect(provider.statistics.estimatedUsage == 1)
    }

    @Test("a server that answers whole JSON despite stream: true still works")
    func wholeAnswer() throws {
        let fake = try FakeOpenAIServer([.whole("all at once")])
        defer { fake.stop() }
        let outcome = Self.call(try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)]))
        #expect(outcome.pieces == ["all at once"])
        #expect(outcome.completion?.promptTokens == 5 && outcome.completion?.completionTokens == 2)
    }

    @Test("a slow stream arrives complete, in order", arguments: [15, 70])
    func slowStream(delay: Int) throws {
        let pieces = (0..<6).map { "p\($0) " }
        let fake = try FakeOpenAIServer([.answer(pieces, delayMs: delay)])
        defer { fake.stop() }
        let outcome = Self.call(try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)]))
        #expect(outcome.pieces == pieces)
        #expect(outcome.completion?.text == pieces.joined())
    }

    @Test("5xx and 429 (with retry-after-ms) are retried, then the answer comes", arguments: [
        [B.status(500, message: "boom"), .status(503, message: "overloaded"), .answer(["ok"])],
        [B.status(429, message: "slow down", headers: [("retry-after-ms", "5")]), .answer(["ok"])],
        [B.status(429, message: "slow down", headers: [("Retry-After", "0")]), .status(502, message: "bad gateway"), .answer(["ok"])],
    ])
    func retriedThenAnswered(script: [B]) throws {
        let fake = try FakeOpenAIServer(script)
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, retries: 3)])
        let outcome = Self.call(provider)
        #expect(outcome.completion?.text == "ok")
        #expect(fake.requestCount == script.count)
        #expect(provider.statistics.retries == script.count - 1 && provider.statistics.fallbacks == 0)
    }

    @Test("retries are bounded: 1 + retries attempts, then a server error naming the failure", arguments: [0, 1, 3])
    func retriesBounded(retries: Int) throws {
        let fake = try FakeOpenAIServer([.status(503, message: "still overloaded")])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, retries: retries)])
        let error = try #require(Self.call(provider).error)
        #expect(error.code == .modelUnavailable && error.httpStatus == 503)
        #expect(error.message.contains("HTTP 503: still overloaded") && error.message.contains("(\(retries + 1) attempt"))
        #expect(fake.requestCount == retries + 1)
        #expect(provider.statistics.attempts == retries + 1 && provider.statistics.failures == 1)
    }

    @Test("429 everywhere becomes a broker rate limit with the upstream's wait; a wait over a minute is not waited out")
    func rateLimitedEverywhere() throws {
        let fake = try FakeOpenAIServer([.status(429, message: "quota", headers: [("Retry-After", "120")])])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, retries: 3)])
        let error = try #require(Self.call(provider).error)
        #expect(error.code == .rateLimited && error.retryAfterMilliseconds == 120_000)
        #expect(fake.requestCount == 1)
    }

    @Test("4xx is not retried and maps to a clear error; a request fault is not sent to the next endpoint", arguments: [
        (400, "bad 'temperature'", BrokerError.Code.invalidRequest),
        (400, "This model's maximum context length is 4096 tokens", .contextLengthExceeded),
        (422, "unprocessable", .invalidRequest),
    ])
    func clientErrors(status: Int, message: String, code: BrokerError.Code) throws {
        let first = try FakeOpenAIServer([.status(status, message: message)])
        let second = try FakeOpenAIServer([.answer(["never"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3), UpstreamFixture.endpoint(second.url)])
        let error = try #require(Self.call(provider).error)
        #expect(error.code == code)
        #expect(error.message.contains("HTTP \(status): \(message)") && error.message.contains(first.url))
        #expect(first.requestCount == 1 && second.requestCount == 0)
    }

    @Test("401 and 404 say the endpoint is wrong: no retry there, the next endpoint answers", arguments: [401, 404])
    func endpointErrorsFallBack(status: Int) throws {
        let first = try FakeOpenAIServer([.status(status, message: "no")])
        let second = try FakeOpenAIServer([.answer(["from the second"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3), UpstreamFixture.endpoint(second.url)])
        #expect(Self.call(provider).completion?.text == "from the second")
        #expect(first.requestCount == 1 && second.requestCount == 1)
        #expect(provider.statistics.attemptsPerEndpoint == [1, 1] && provider.statistics.fallbacks == 1)
    }

    @Test("fallback order: a dead endpoint is retried, then the second one answers")
    func fallbackAfterConnectionErrors() throws {
        let second = try FakeOpenAIServer([.answer(["backup"])])
        defer { second.stop() }
        let dead = "http://127.0.0.1:\(try UpstreamFixture.closedPort())/v1"
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(dead, retries: 2), UpstreamFixture.endpoint(second.url)])
        let outcome = Self.call(provider)
        #expect(outcome.completion?.text == "backup")
        #expect(provider.statistics.attemptsPerEndpoint == [3, 1])
        #expect(provider.statistics.retries == 2 && provider.statistics.fallbacks == 1)
    }

    @Test("dropped connections before any text are retried", arguments: [
        [B.drop([]), .answer(["after a drop"])],
        [B.closeListener],
    ])
    func dropsBeforeText(script: [B]) throws {
        let first = try FakeOpenAIServer(script)
        let second = try FakeOpenAIServer([.answer(["after a drop"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 1), UpstreamFixture.endpoint(second.url)])
        let outcome = Self.call(provider)
        #expect(outcome.completion?.text == "after a drop")
        #expect(provider.statistics.attempts == 2 + (script.count == 1 ? 1 : 0))
        // A drop after the head is retried at the same endpoint; a closed listener refuses the retry, and the second endpoint answers.
        #expect(second.requestCount == (script.count == 1 ? 1 : 0))
    }

    @Test("no retry and no fallback once text was passed on: a drop or a stall mid-stream fails the call", arguments: [
        B.drop(["Hel", "lo"]), B.stall(["Hel", "lo"]),
    ])
    func noRetryAfterText(behaviour: B) throws {
        let first = try FakeOpenAIServer([behaviour])
        let second = try FakeOpenAIServer([.answer(["never"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3, timeouts: ["idleMs": 300]),
                                                     UpstreamFixture.endpoint(second.url)])
        let outcome = Self.call(provider)
        #expect(outcome.pieces == ["Hel", "lo"])
        let error = try #require(outcome.error)
        #expect(error.code == .internalError && error.message.contains("after part of the answer was sent"))
        if case .stall = behaviour { #expect(error.message.contains("idleMs 300")) }
        #expect(first.requestCount == 1 && second.requestCount == 0)
        #expect(provider.statistics.attempts == 1)
    }

    @Test("the caller's deadline cuts a stalled attempt short, with no retry: 504")
    func deadlineStops() throws {
        let fake = try FakeOpenAIServer([.silent])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, retries: 3)])
        let error = try #require(Self.call(provider, deadline: .now + .milliseconds(300)).error)
        #expect(error.code == .deadlineExceeded && error.httpStatus == 504)
        #expect(error.message.contains("deadline"))
        #expect(fake.requestCount == 1)
    }

    @Test("a retry wait past the caller's deadline is skipped: the next endpoint answers in time")
    func deadlineSkipsLongWait() throws {
        let first = try FakeOpenAIServer([.status(503, message: "busy", headers: [("retry-after-ms", "20000")])])
        let second = try FakeOpenAIServer([.answer(["in time"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3), UpstreamFixture.endpoint(second.url)])
        #expect(Self.call(provider, deadline: .now + .seconds(10)).completion?.text == "in time")
        #expect(first.requestCount == 1 && second.requestCount == 1)
    }

    @Test("a stream that stalls after its finish reason is a complete answer once the idle timeout passes")
    func stallAfterFinish() throws {
        let fake = try FakeOpenAIServer([.finishThenStall(["com", "plete"])])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, timeouts: ["idleMs": 200])])
        let completion = try #require(Self.call(provider).completion)
        #expect(completion.text == "complete" && completion.finish == .stop && completion.usageEstimated)
        #expect(fake.requestCount == 1)
    }

    @Test("the first-byte timeout fires before any event and is retried; the total timeout ends a stream that never stops")
    func timeouts() throws {
        let silent = try FakeOpenAIServer([.silent])
        let headOnly = try FakeOpenAIServer([.stall([])])
        let endless = try FakeOpenAIServer([.endless(everyMs: 10)])
        defer { silent.stop(); headOnly.stop(); endless.stop() }
        for fake in [silent, headOnly] {
            let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url, retries: 1, timeouts: ["firstByteMs": 200])])
            let error = try #require(Self.call(provider).error)
            #expect(error.message.contains("firstByteMs 200") && error.message.contains("(2 attempts)"))
            #expect(fake.requestCount == 2)
        }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(endless.url, retries: 2, timeouts: ["totalMs": 400])])
        let outcome = Self.call(provider)
        #expect(outcome.pieces.count > 0)
        #expect(outcome.error?.message.contains("total of 400 ms") == true)
        #expect(endless.requestCount == 1)
    }

    @Test("garbage is not retried at the same endpoint; the next endpoint answers", arguments: ["this is not json", #"{"unexpected": true}"#])
    func garbage(text: String) throws {
        let first = try FakeOpenAIServer([.garbage(text)])
        let second = try FakeOpenAIServer([.answer(["clean"])])
        defer { first.stop(); second.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3), UpstreamFixture.endpoint(second.url)])
        #expect(Self.call(provider).completion?.text == "clean")
        #expect(first.requestCount == 1 && second.requestCount == 1)
        let alone = try UpstreamFixture.provider([UpstreamFixture.endpoint(first.url, retries: 3)])
        #expect(Self.call(alone).error?.message.contains("not a chat completion chunk") == true)
    }

    @Test("cancellation stops the read and closes the upstream connection")
    func cancellation() throws {
        let fake = try FakeOpenAIServer([.endless(everyMs: 5)])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)])
        let outcome = Self.call(provider, cancelAfterPieces: 3)
        let completion = try #require(outcome.completion)
        #expect(completion.finish == .cancelled && completion.text == outcome.pieces.joined())
        #expect(outcome.pieces.count >= 3 && outcome.pieces.prefix(3) == ["tick0 ", "tick1 ", "tick2 "])
        // The fake notices the closed connection on a later write: the stream was really torn down.
        #expect(fake.wait { $0.peerGone == 1 })
        #expect(fake.wait { $0.server.statistics.connections == 0 })
        #expect(fake.requestCount == 1 && provider.statistics.cancellations == 1)
    }

    @Test("a run's end (cancelAll for its agent) stops its calls and closes their connections; other agents' calls go on")
    func cancelAllForAgent() throws {
        let fake = try FakeOpenAIServer([.endless(everyMs: 5), .answer(["other"], delayMs: 5)])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)])
        let result = Mutex<ModelCompletion?>(nil)
        let pieces = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let prompt = try? provider.prepare(Self.messages)
            let settings = GenerationSettings(maxTokens: 32, caller: ModelCaller(agent: "run-1"))
            let completion = prompt.flatMap { try? provider.complete($0, settings: settings, isCancelled: { false },
                                                                     onText: { _ in pieces.withLock { $0 += 1 } }) }
            result.withLock { $0 = completion }
            done.signal()
        }
        #expect(fake.wait { _ in pieces.withLock { $0 } >= 3 })
        provider.cancelAll(agent: "run-2")
        #expect(Self.call(provider).completion?.text == "other")
        #expect(done.wait(timeout: .now()) == .timedOut, "another agent's cancellation stopped run-1")
        provider.cancelAll(agent: "run-1")
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(result.withLock { $0 }?.finish == .cancelled)
        #expect(fake.wait { $0.peerGone == 1 })
        #expect(provider.statistics.cancellations == 1)
    }

    @Test("concurrent calls each get their own connection and their whole answer")
    func concurrentCalls() throws {
        let fake = try FakeOpenAIServer([.answer(["one", " two", " three"], delayMs: 5)])
        defer { fake.stop() }
        let provider = try UpstreamFixture.provider([UpstreamFixture.endpoint(fake.url)])
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let text = Self.call(provider).completion?.text ?? "failed"
            outcomes.withLock { $0.append(text) }
        }
        #expect(outcomes.withLock { $0 } == Array(repeating: "one two three", count: 6))
        #expect(fake.requestCount == 6 && provider.statistics.calls == 6 && provider.statistics.attempts == 6)
    }
}
