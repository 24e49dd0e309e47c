import HostOS

/// Events of one request, from the worker thread that produces them to whoever reads the ticket.
///
/// Pushing never blocks on the reader (a slow client must not stall the batch): events wait in a
/// list, and text pieces the reader has not taken yet are joined into one, so what waits is at most
/// the request's own text plus one end event.
final class EventChannel: @unchecked Sendable {
    private let lock = ConditionLock()
    private var pending: [PoolEvent] = []
    private var ended = false
    private var delivered = false

    /// Appends a text piece (joined to an unread one).
    func push(text: String) {
        guard !text.isEmpty else { return }
        lock.withLock {
            guard !ended else { return }
            if case .text(let unread)? = pending.last {
                pending[pending.count - 1] = .text(unread + text)
            } else {
                pending.append(.text(text))
            }
            lock.broadcast()
        }
    }

    /// Appends the end event; false when the request had already ended (only the first end counts).
    /// `whenEnded` runs, if this call ended it, before a reader can see the event.
    @discardableResult
    func end(_ event: PoolEvent, whenEnded: () -> Void = {}) -> Bool {
        lock.withLock {
            guard !ended else { return false }
            ended = true
            whenEnded()
            pending.append(event)
            lock.broadcast()
            return true
        }
    }

    /// Whether the end event was taken by a reader.
    var isDrained: Bool { lock.withLock { delivered } }

    /// Whether the end event was pushed.
    var hasEnded: Bool { lock.withLock { ended } }

    /// The next event, waiting up to `timeout`; nil on timeout or after the end event was taken.
    func next(timeout: Duration) -> PoolEvent? {
        let deadline = monotonicNanos() &+ timeout.nanosecondsClamped
        return lock.withLock {
            while pending.isEmpty {
                if delivered || monotonicNanos() >= deadline { return nil }
                lock.wait(untilMonotonic: deadline)
            }
            let event = pending.removeFirst()
            if pending.isEmpty && ended { delivered = true }
            return event
        }
    }
}

/// A submitted request: read its events in order (text pieces, then one `.finished` or `.failed`),
/// or cancel it.
public final class PoolTicket: Sendable {
    private let job: PoolJob
    private let onCancel: @Sendable (PoolJob) -> Void

    init(job: PoolJob, onCancel: @escaping @Sendable (PoolJob) -> Void) {
        self.job = job
        self.onCancel = onCancel
    }

    /// A ticket nobody holds any more cancels its request: no one is left to read it (the client
    /// went away), so its KV blocks are better given to others.
    deinit { cancel() }

    /// The agent that submitted it.
    public var agent: String { job.agent }

    /// The next event, blocking up to `timeout`; nil when none came in time, and after the end event.
    public func next(timeout: Duration) -> PoolEvent? { job.channel.next(timeout: timeout) }

    /// Cancels the request: a waiting one ends at once, a running one at the worker's next step
    /// boundary, where its KV blocks are freed; the ticket then yields `.failed(.cancelled)`.
    public func cancel() {
        guard !job.channel.hasEnded else { return }
        job.cancelled.store(true, ordering: .relaxed)
        onCancel(job)
    }

    /// Reads events until the end, passing text to `onText`; the completion, or the failure thrown.
    public func wait(onText: (String) -> Void = { _ in }) throws(InferenceError) -> PoolCompletion {
        while true {
            guard let event = next(timeout: .seconds(3600)) else {
                if job.channel.isDrained { throw InferenceError(.invalidArgument, "the ticket's end event was already read") }
                continue
            }
            switch event {
            case .text(let text): onText(text)
            case .finished(let completion): return completion
            case .failed(let error): throw error
            }
        }
    }
}
