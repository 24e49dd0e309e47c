import Glibc
import HostOS

/// A small HTTP/1.1 server: one epoll event loop on its own thread, non-blocking sockets,
/// keep-alive, pipelining (answered in order), Content-Length and chunked bodies, streamed
/// responses with backpressure, and bounded sizes and times for everything a peer sends.
///
/// The handler runs on the loop thread and must return quickly; responders work from any thread.
public final class HTTPServer: Sendable {
    /// Bounds on what a peer may send and how long it may take.
    public struct Limits: Sendable {
        /// The request line plus header fields, up to and including the blank line (431 beyond).
        public var maxHeaderBytes = 16 * 1024
        /// Header fields per request (431 beyond).
        public var maxHeaderCount = 100
        /// A request body, however framed (413 beyond).
        public var maxBodyBytes = 8 * 1024 * 1024
        /// The request line (414 beyond).
        public var maxRequestLineBytes = 8 * 1024
        /// The request target (414 beyond).
        public var maxTargetBytes = 8 * 1024
        /// From the first byte of a request to the end of its head (408 after).
        public var headerTimeout: Duration = .seconds(10)
        /// From the end of the head to the end of the body (408 after).
        public var bodyTimeout: Duration = .seconds(60)
        /// How long a keep-alive connection may sit between requests (closed quietly after).
        public var idleTimeout: Duration = .seconds(60)
        /// How long queued output may wait without the peer reading any of it (closed after;
        /// the producer's `write` returns false).
        public var writeStallTimeout: Duration = .seconds(30)
        /// Open connections per listener; more are answered 503 and closed.
        public var maxConnectionsPerListener = 256
        /// Response bytes queued per connection before `HTTPResponder.write` blocks.
        public var maxQueuedOutputBytes = 256 * 1024

        public init() {}

        /// The limits with nonsensical values raised to the smallest workable ones (a queue limit
        /// of 0 would block every producer forever).
        var sanitized: Limits {
            var limits = self
            limits.maxHeaderBytes = max(limits.maxHeaderBytes, 64)
            limits.maxHeaderCount = max(limits.maxHeaderCount, 1)
            limits.maxBodyBytes = max(limits.maxBodyBytes, 0)
            limits.maxRequestLineBytes = max(limits.maxRequestLineBytes, 16)
            limits.maxTargetBytes = max(limits.maxTargetBytes, 1)
            limits.maxConnectionsPerListener = max(limits.maxConnectionsPerListener, 1)
            limits.maxQueuedOutputBytes = max(limits.maxQueuedOutputBytes, 1)
            let shortest = Duration.milliseconds(1)
            limits.headerTimeout = max(limits.headerTimeout, shortest)
            limits.bodyTimeout = max(limits.bodyTimeout, shortest)
            limits.idleTimeout = max(limits.idleTimeout, shortest)
            limits.writeStallTimeout = max(limits.writeStallTimeout, shortest)
            return limits
        }
    }

    /// Counters the loop keeps, for tests and benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Connections open now.
        public var connections = 0
        /// Requests handed to the handler.
        public var requests = 0
        /// Requests refused with a 4xx/5xx by the server itself.
        public var rejections = 0
        /// The most response bytes ever queued for one connection (its output plus its producer's pending bytes).
        public var maxQueuedBytes = 0
    }

    let handler: any HTTPHandler
    let limits: Limits
    let mailbox: LoopMailbox
    let stats = StatisticsBox()
    private let state = ConditionLock()
    private nonisolated(unsafe) var phase = Phase.idle
    private nonisolated(unsafe) var thread: pthread_t?
    private enum Phase { case idle, running, stopped }

    /// A server that answers with `handler`; nothing listens until `addListener` and `start`.
    public init(handler: any HTTPHandler, limits: Limits = .init()) {
        self.handler = handler
        self.limits = limits.sanitized
        self.mailbox = LoopMailbox()
    }

    deinit { stop() }

    /// Serves the already-listening socket `fd` (the server owns it from now on), tagging its
    /// requests with `tag`. Before or after `start`, from any thread.
    public func addListener(_ fd: FileDescriptor, tag: Int) throws(HTTPServerError) {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) != 0 {
            throw HTTPServerError(.notListening, "\(fd) is not a socket: \(String(cString: strerror(errno)))", systemError: errno)
        }
        if accepting == 0 { throw HTTPServerError(.notListening, "\(fd) is a socket that is not listening") }
        let flags = fcntl(fd.rawValue, F_GETFL)
        if flags < 0 || fcntl(fd.rawValue, F_SETFL, flags | O_NONBLOCK) != 0 { throw .system("fcntl(O_NONBLOCK)") }
        // Checked and posted under the state lock: a stop cannot slip in between and strand the
        // descriptor in a mailbox nobody drains.
        let posted = state.withLock {
            if phase == .stopped { return false }
            mailbox.post(.addListener(fd.rawValue, tag))
            return true
        }
        if !posted { throw HTTPServerError(.invalidState, "the server is stopped") }
    }

    /// Closes the listeners tagged `tag` and all their connections (producers' writes return false).
    public func removeListener(tag: Int) { mailbox.post(.removeListener(tag)) }

    /// Starts the event-loop thread.
    public func start() throws(HTTPServerError) {
        state.lock()
        defer { state.unlock() }
        guard phase == .idle else { throw HTTPServerError(.invalidState, "the server was already started or stopped") }
        if mailbox.eventFD < 0 { throw .system("eventfd") }
        let loop = try EventLoop(server: self)
        let box = Unmanaged.passRetained(loop).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { context in
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<EventLoop>.fromOpaque(box).release()
            throw .system("pthread_create", result)
        }
        thread = handle
        phase = .running
    }

    /// Stops the loop, closes every listener and connection, and waits for the thread. Idempotent.
    /// (Called from a handler, it stops the loop without waiting for itself.)
    public func stop() {
        state.lock()
        let previous = phase
        let handle = thread
        phase = .stopped
        thread = nil
        state.unlock()
        switch previous {
        case .stopped: return
        case .idle: closeQueuedListeners()
        case .running:
            mailbox.post(.stop)
            if let handle, pthread_equal(handle, pthread_self()) == 0 { pthread_join(handle, nil) }
        }
    }

    /// A snapshot of the loop's counters.
    public var statistics: Statistics { stats.snapshot }

    private func closeQueuedListeners() {
        for command in mailbox.drain() {
            if case .addListener(let fd, _) = command { close(fd) }
        }
    }
}

/// The loop's counters behind a lock (read rarely, written by the loop thread).
final class StatisticsBox: @unchecked Sendable {
    private let lock = ConditionLock()
    private var value = HTTPServer.Statistics()

    var snapshot: HTTPServer.Statistics { lock.withLock { value } }
    func update(_ body: (inout HTTPServer.Statistics) -> Void) { lock.withLock { body(&value) } }
}
