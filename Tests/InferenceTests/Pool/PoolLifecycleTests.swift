import Foundation
import Testing
import TestSupport
@testable import Inference

@Suite("Pool: cancellation, deadlines, backpressure, shutdown, autoscaling, bad requests, errors")
struct PoolLifecycleTests {
    @Test("a cancelled running request ends at the next step boundary and frees its blocks")
    func cancelRunning() throws {
        let harness = try PoolHarness(gated: true)
        defer { harness.pool.shutdown() }
        let prompt = harness.prompt(9, seed: 1)
        let ticket = try harness.pool.submit(harness.request("a", prompt: prompt, maxTokens: 100))
        let backend = try harness.factory.first()
        #expect(backend.waitUntilBlocked())
        backend.release()
        #expect(backend.waitUntilBlocked())  // the second step (a decode) is at the gate
        ticket.cancel()
        backend.release()  // that step completes; the next one drops the request before evaluating
        let (_, end) = PoolFixture.drain(ticket)
        #expect(end?.error?.code == .cancelled)
        #expect(backend.recordedSteps.count == 2, "no step ran after the one in flight")
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
        #expect(harness.pool.metrics().cancellations == 1)
        #expect(ticket.next(timeout: .milliseconds(1)) == nil)
    }

    @Test("a waiting request cancelled, or all of an agent's, end at once")
    func cancelWaiting() throws {
        let harness = try PoolHarness(startAllowed: false)
        defer { harness.pool.shutdown() }
        let one = try harness.pool.submit(harness.request("a", prompt: harness.prompt(4, seed: 1)))
        let two = try harness.pool.submit(harness.request("b", prompt: harness.prompt(4, seed: 2)))
        let three = try harness.pool.submit(harness.request("b", prompt: harness.prompt(4, seed: 3)))
        one.cancel()
        #expect(PoolFixture.drain(one).end?.error?.code == .cancelled)
        harness.pool.cancelAll(agent: "b")
        #expect(PoolFixture.drain(two).end?.error?.code == .cancelled)
        #expect(PoolFixture.drain(three).end?.error?.code == .cancelled)
        #expect(harness.pool.metrics().queueDepthByAgent.isEmpty)
        #expect(harness.pool.metrics().cancellations == 3)
        harness.factory.allowStart()
    }

    @Test("a ticket dropped without being read cancels its request")
    func droppedTicket() throws {
        let harness = try PoolHarness(gated: true)
        defer { harness.pool.shutdown() }
        let backend = try harness.factory.first()
        do {
            _ = try harness.pool.submit(harness.request("a", prompt: harness.prompt(5, seed: 1), maxTokens: 100))
        }
        backend.openGate()
        #expect(PoolFixture.eventually { harness.pool.metrics().cancellations == 1 })
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
    }

    @Test("deadlines: a waiting request and a running one fail with deadlineExceeded")
    func deadlines() throws {
        let harness = try PoolHarness(gated: true)
        defer { harness.pool.shutdown() }
        let backend = try harness.factory.first()
        let deadline = ContinuousClock.now + .seconds(2)
        let running = try harness.pool.submit(harness.request("a", prompt: harness.prompt(5, seed: 1), maxTokens: 100, deadline: deadline))
        #expect(backend.waitUntilBlocked())
        // A request whose deadline is already over never runs.
        let waiting = try harness.pool.submit(harness.request("b", prompt: harness.prompt(5, seed: 2), deadline: .now))
        #expect(PoolFixture.drain(waiting).end?.error?.code == .deadlineExceeded)
        #expect(PoolFixture.eventually { ContinuousClock.now >= deadline })
        backend.release()
        let end = PoolFixture.drain(running).end
        #expect(end?.error?.code == .deadlineExceeded)
        #expect(harness.pool.metrics().deadlineMisses == 2)
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksUsed == 0 })
    }

    @Test("full queues refuse with overloaded and a retry-after, per agent and in total")
    func backpressure() throws {
        let harness = try PoolHarness(startAllowed: false) {
            $0.maxQueuedPerAgent = 2
            $0.maxQueuedTotal = 3
        }
        defer {
            harness.factory.allowStart()
            harness.pool.shutdown()
        }
        let prompt = harness.prompt(4, seed: 1)
        // Held: a dropped ticket cancels its request.
        var held = [try harness.pool.submit(harness.request("a", prompt: prompt))]
        held.append(try harness.pool.submit(harness.request("a", prompt: prompt)))
        let perAgent = #expect(throws: InferenceError.self) { try harness.pool.submit(harness.request("a", prompt: prompt)) }
        #expect(perAgent?.code == .overloaded)
        #expect((perAgent?.retryAfterMilliseconds ?? 0) > 0)
        held.append(try harness.pool.submit(harness.request("b", prompt: prompt)))
        let total = #expect(throws: InferenceError.self) { try harness.pool.submit(harness.request("c", prompt: prompt)) }
        #expect(total?.code == .overloaded)
        #expect((total?.retryAfterMilliseconds ?? 0) > 0)
        #expect(harness.pool.metrics().rejections == 2)
        #expect(harness.pool.metrics().queueDepthByAgent == ["a": 2, "b": 1])
        #expect(held.count == 3)
    }

    @Test("shutdown fails waiting and running requests with unavailable, joins, and is idempotent")
    func shutdown() throws {
        let harness = try PoolHarness(maxRunning: 1, gated: true)
        let backend = try harness.factory.first()
        let running = try harness.pool.submit(harness.request("a", prompt: harness.prompt(5, seed: 1), maxTokens: 50))
        #expect(backend.waitUntilBlocked())
        let waiting = try harness.pool.submit(harness.request("b", prompt: harness.prompt(5, seed: 2)))
        let done = DispatchSemaphore(value: 0)
        let pool = harness.pool
        Thread.detachNewThread {
            pool.shutdown()
            done.signal()
        }
        #expect(PoolFixture.drain(waiting).end?.error?.code == .unavailable)
        backend.openGate()  // the step in flight completes; the worker then stops
        #expect(PoolFixture.drain(running).end?.error?.code == .unavailable)
        #expect(done.wait(timeout: .now() + 60) == .success)
        harness.pool.shutdown()
        #expect(harness.pool.metrics().workers == 0)
        let after = #expect(throws: InferenceError.self) { try harness.pool.submit(harness.request("a", prompt: [1])) }
        #expect(after?.code == .unavailable)
    }

    @Test("autoscaling: no worker until demand, a second when the queue waits, idle ones released")
    func autoscaling() throws {
        let harness = try PoolHarness(maxRunning: 1, minWorkers: 0, maxWorkers: 2, gated: true, keepsBackends: false) {
            $0.scaleUpQueueWait = .milliseconds(20)
            $0.idleRelease = .milliseconds(50)
        }
        defer { harness.pool.shutdown() }
        #expect(harness.pool.metrics().workers == 0 && harness.factory.madeCount == 0)
        let first = try harness.pool.submit(harness.request("a", prompt: harness.prompt(5, seed: 1), maxTokens: 3))
        #expect(PoolFixture.eventually { harness.factory.madeCount == 1 })
        // The only worker runs one sequence at a time and is held at its gate: the next request waits,
        // and after scaleUpQueueWait a second worker starts for it.
        let second = try harness.pool.submit(harness.request("b", prompt: harness.prompt(5, seed: 2), maxTokens: 3))
        #expect(PoolFixture.eventually { harness.factory.madeCount == 2 })
        #expect(PoolFixture.eventually { harness.pool.metrics().workers == 2 })
        #expect(PoolFixture.eventually { harness.pool.metrics().kvBlocksTotal == 2 * 256 }, "both arenas counted")
        #expect(harness.factory.openAllGates() == 2)
        #expect(PoolFixture.drain(first).end?.completion != nil)
        #expect(PoolFixture.drain(second).end?.completion != nil)
        #expect(PoolFixture.eventually { harness.pool.metrics().workers == 0 })
        #expect(PoolFixture.eventually { harness.factory.released == 2 }, "idle workers released their backends")
    }

    @Test("bad requests fail with a precise error")
    func badRequests() throws {
        let harness = try PoolHarness()
        defer { harness.pool.shutdown() }
        // One request first, so the pool knows the context (512) from its worker's backend.
        #expect(PoolFixture.drain(try harness.pool.submit(harness.request("a", prompt: harness.prompt(3, seed: 1)))).end?.completion != nil)
        let letter = harness.letters[0]
        let cases: [(PoolRequest, InferenceError.Code)] = [
            (harness.request("a", prompt: []), .invalidArgument),
            (harness.request("a", prompt: Array(repeating: letter, count: 512)), .contextOverflow),
            (harness.request("a", prompt: [letter, -1]), .invalidToken),
            (harness.request("a", prompt: [letter, 49152]), .invalidToken),
            (harness.request("a", prompt: [letter], maxTokens: 0), .invalidArgument),
            (harness.request("a", prompt: [letter], weight: 0), .invalidArgument),
            (harness.request("a", prompt: [letter], weight: .nan), .invalidArgument),
            (PoolRequest(agent: "a", generation: GenerationRequest(prompt: [letter], stop: [""])), .invalidArgument),
        ]
        for (request, code) in cases {
            let error = #expect(throws: InferenceError.self) { try harness.pool.submit(request) }
            #expect(error?.code == code, "\(String(describing: error))")
            #expect(error?.message.isEmpty == false)
        }
        // maxTokens is capped so prompt plus completion fit the context.
        let long = harness.prompt(500, seed: 3)
        let capped = try #require(PoolFixture.drain(try harness.pool.submit(harness.request("a", prompt: long, maxTokens: 100))).end?.completion)
        #expect(capped.usage.completionTokens == 12 && capped.result.finishReason == .length)
    }

    @Test("before any worker knows the context, an oversized prompt fails at admission; so does one the arena cannot hold")
    func oversizedAtAdmission() throws {
        let harness = try PoolHarness(blocks: 8, startAllowed: false)
        defer { harness.pool.shutdown() }
        let tooLong = try harness.pool.submit(harness.request("a", prompt: harness.prompt(600, seed: 1)))
        let tooBig = try harness.pool.submit(harness.request("a", prompt: harness.prompt(40, seed: 1)))
        harness.factory.allowStart()
        #expect(PoolFixture.drain(tooLong).end?.error?.code == .contextOverflow)
        let arena = PoolFixture.drain(tooBig).end?.error
        #expect(arena?.code == .contextOverflow && arena?.message.contains("kvMemoryBytes") == true)
    }

    @Test("a backend error fails only the request that caused it; the pool keeps serving")
    func backendErrors() throws {
        let harness = try PoolHarness(startAllowed: false, failToken: 1000)
        defer { harness.pool.shutdown() }
        let good = harness.prompt(6, seed: 1)
        let badTicket = try harness.pool.submit(harness.request("a", prompt: harness.prompt(3, seed: 2) + [1000]))
        let goodTicket = try harness.pool.submit(harness.request("b", prompt: good, maxTokens: 6))
        harness.factory.allowStart()
        #expect(PoolFixture.drain(badTicket).end?.error?.code == .invalidArgument)
        #expect(PoolFixture.drain(goodTicket).end?.completion?.result.tokens == harness.reference(good, maxTokens: 6))
        #expect(harness.pool.metrics().failures == 1)
        let again = try harness.pool.submit(harness.request("c", prompt: good, maxTokens: 2))
        #expect(PoolFixture.drain(again).end?.completion != nil)
    }

    @Test("metrics render in the Prometheus text format")
    func prometheus() throws {
        var metrics = PoolMetrics()
        metrics.queueDepthByAgent = ["run-\"1\"": 2]
        metrics.preemptions = 3
        let text = metrics.prometheusText()
        #expect(text.contains("warden_pool_queue_depth{agent=\"run-\\\"1\\\"\"} 2\n"))
        #expect(text.contains("# TYPE warden_pool_preemptions_total counter\nwarden_pool_preemptions_total 3\n"))
        #expect(text.contains("warden_pool_kv_blocks{state=\"shared\"} 0\n"))
    }

    @Test("in OpenMetrics form, counter families drop _total and prometheus_client's OpenMetrics parser reads them")
    func openMetrics() throws {
        var metrics = PoolMetrics()
        metrics.preemptions = 3
        metrics.steps = 7
        let text = metrics.prometheusText(perAgent: false, openMetrics: true) + "# EOF\n"
        #expect(text.contains("# TYPE warden_pool_preemptions counter\nwarden_pool_preemptions_total 3\n"))
        let parser = """
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
            print(families["warden_pool_steps"].type, families["warden_pool_steps"].samples[0].value, len(families))
            """
        let parsed = try WardenTool.runProcess("/usr/bin/python3", ["-c", parser], input: text)
        #expect(parsed.status == 0, "prometheus_client refused the OpenMetrics text: \(parsed.stderr)")
        #expect(parsed.stdout.hasPrefix("counter 7 "), "\(parsed.stdout)")
    }
}
