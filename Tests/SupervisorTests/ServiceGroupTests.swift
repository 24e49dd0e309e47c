import Synchronization
import Testing
@testable import Supervisor

/// The daemon's lifecycle: services run together and stop one at a time in reverse order, on request
/// or when one of them ends on its own; event order is asserted, never time.
@Suite("service group")
struct ServiceGroupTests {
    final class Journal: Sendable {
        let events = Mutex<[String]>([])
        func note(_ event: String) { events.withLock { $0.append(event) } }
        var all: [String] { events.withLock { $0 } }
    }

    struct Recorded: Service {
        let name: String
        let journal: Journal
        /// Ends on its own (without being cancelled) once this gate opens; nil: serves until cancelled.
        let endsBy: AsyncStream<Void>?
        var fails = false

        func run() async throws {
            journal.note("start \(name)")
            if let endsBy {
                for await _ in endsBy { break }
                journal.note("ended \(name)")
                if fails { throw SupervisorError(.io, "\(name) broke") }
                return
            }
            await waitUntilCancelled()
            journal.note("stop \(name)")
        }
    }

    /// Waits until every service has noted its start (the tasks run concurrently).
    static func started(_ journal: Journal, _ count: Int) async {
        while journal.all.filter({ $0.hasPrefix("start") }).count < count { await Task.yield() }
    }

    @Test("a shutdown request stops the services in reverse order, each awaited before the next")
    func reverseOrderOnRequest() async {
        let journal = Journal()
        let (request, trigger) = AsyncStream.makeStream(of: Void.self)
        let group = ServiceGroup(["a", "b", "c"].map { Recorded(name: $0, journal: journal, endsBy: nil) })
        let logged = Journal()
        async let outcome = group.run(until: {
            await Self.started(journal, 3)
            for await _ in request { break }
        }, log: { logged.note($0) })
        trigger.yield()
        let result = await outcome
        #expect(result.requested && result.failures.isEmpty)
        #expect(Array(journal.all.suffix(3)) == ["stop c", "stop b", "stop a"])
        #expect(logged.all == ["stopping c", "stopping b", "stopping a"])
    }

    @Test("a service that ends on its own (here with an error) stops the rest, in reverse order")
    func oneEndingStopsTheRest() async {
        let journal = Journal()
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let services: [any Service] = [Recorded(name: "a", journal: journal, endsBy: nil),
                                       Recorded(name: "b", journal: journal, endsBy: gate, fails: true),
                                       Recorded(name: "c", journal: journal, endsBy: nil)]
        async let outcome = ServiceGroup(services).run(until: { await waitUntilCancelled() })
        await Self.started(journal, 3)
        open.yield()
        let result = await outcome
        #expect(!result.requested)
        #expect(result.failures.map(\.service) == ["b"] && result.failures.first?.error.contains("b broke") == true)
        #expect(Array(journal.all.suffix(3)) == ["ended b", "stop c", "stop a"])
    }
}
