import Glibc
import Synchronization

/// A long-running part of the daemon, in swift-service-lifecycle's shape: `run` serves until its task
/// is cancelled, then shuts down gracefully and returns (or throws if it cannot serve at all).
public protocol Service: Sendable {
    /// For the daemon's log ("stopping control socket").
    var name: String { get }
    func run() async throws
}

/// Runs services together until a shutdown is requested (a signal, for `warden serve`) or one of them
/// ends on its own; then stops the others one at a time in the reverse of their order, each cancelled
/// and awaited before the next, so later services (which depend on earlier ones) stop first.
public struct ServiceGroup: Sendable {
    public let services: [any Service]

    public init(_ services: [any Service]) { self.services = services }

    /// What ended the group and what went wrong on the way.
    public struct Outcome: Sendable {
        /// True when `shutdownRequested` returned first; false when a service ended on its own.
        public var requested: Bool
        /// Each service that threw, by name, with its error's description.
        public var failures: [(service: String, error: String)]
    }

    /// Runs until `shutdownRequested` returns or a service ends; `log` hears each step of the shutdown.
    public func run(until shutdownRequested: @escaping @Sendable () async -> Void,
                    log: @escaping @Sendable (String) -> Void = { _ in }) async -> Outcome {
        let (events, sink) = AsyncStream.makeStream(of: Int.self)  // -1: shutdown requested; i: service i ended
        let failures = FailureLog()
        let tasks = services.enumerated().map { index, service in
            Task {
                do { try await service.run() } catch {
                    failures.items.withLock { $0.append((service.name, "\(error)")) }
                }
                sink.yield(index)
            }
        }
        let request = Task {
            await shutdownRequested()
            sink.yield(-1)
        }
        var first = -1
        for await event in events { first = event; break }
        request.cancel()
        for (index, task) in tasks.enumerated().reversed() where index != first {
            log("stopping \(services[index].name)")
            task.cancel()
            await task.value
        }
        sink.finish()
        return Outcome(requested: first == -1, failures: failures.items.withLock { $0 })
    }

    private final class FailureLog: Sendable {
        let items = Mutex<[(service: String, error: String)]>([])
    }
}

/// Suspends until the current task is cancelled (a service's "serve until told to stop").
public func waitUntilCancelled() async {
    while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(3600))
    }
}

/// Waits on a thread of its own for one of `signals` (which the caller has blocked in every thread) and
/// returns it; SIGHUP-style signals listed in `ignoring` are taken and waited past.
public func waitForSignal(_ signals: [Int32], ignoring: [Int32] = []) async -> Int32 {
    await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
        let started = startDetachedThread {
            var set = sigset_t()
            sigemptyset(&set)
            for signal in signals + ignoring { sigaddset(&set, signal) }
            var received: Int32 = 0
            while sigwait(&set, &received) == 0 && ignoring.contains(received) {}
            continuation.resume(returning: received)
        }
        if !started { continuation.resume(returning: 0) }
    }
}

/// A service whose work runs on threads of its own (the HTTP server, sandbox runs): it serves until
/// cancelled, then runs `close`.
struct ClosingService: Service {
    let name: String
    let close: @Sendable () -> Void

    init(name: String, close: @escaping @Sendable () -> Void) { self.name = name; self.close = close }

    func run() async throws {
        await waitUntilCancelled()
        close()
    }
}
