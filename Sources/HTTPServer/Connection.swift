import Glibc

/// A listening socket the loop accepts on.
final class Listener {
    let id: UInt64
    let fd: Int32
    let tag: Int
    var connections = 0
    /// Accepting pauses briefly when the process runs out of descriptors (level-triggered epoll
    /// would otherwise spin on the pending connection).
    var pausedUntil: UInt64 = 0

    init(id: UInt64, fd: Int32, tag: Int) { self.id = id; self.fd = fd; self.tag = tag }
}

/// One accepted connection's state, owned by the loop thread.
final class Connection {
    enum State { case head, body, awaiting, closing, lingering }
    enum Deadline { case none, idle, header, body, writeStall, linger }

    let id: UInt64
    let fd: Int32
    let listener: Listener
    /// False for connections accepted over the limit only to be told 503.
    let countsTowardLimit: Bool
    var state = State.head
    var closed = false
    /// The peer shut down its sending side while a request was being answered (EPOLLRDHUP).
    var peerFinished = false

    /// Received bytes not yet consumed, from `inputStart`; `scanFrom` is where the search for the
    /// end of the head resumes (a byte-at-a-time sender costs O(n), not O(n²)).
    var input: [UInt8] = []
    var inputStart = 0
    var scanFrom = 0

    /// Bytes for the peer not yet written, from `outputStart`.
    var output: [UInt8] = []
    var outputStart = 0
    var wroteSomething = false

    // The request being read.
    var head: RequestHead?
    var framing = RequestFraming(body: .none, keepAlive: true, expectContinue: false)
    var body: [UInt8] = []
    var chunked: ChunkedDecoder?

    /// The response being produced.
    var channel: ResponseChannel?

    var interest: UInt32 = 0
    var deadline: UInt64 = 0
    var deadlineKind = Deadline.none

    init(id: UInt64, fd: Int32, listener: Listener, countsTowardLimit: Bool) {
        self.id = id; self.fd = fd; self.listener = listener; self.countsTowardLimit = countsTowardLimit
    }

    var unconsumed: Int { input.count - inputStart }
    var queuedOutput: Int { output.count - outputStart }

    /// Drops consumed input (cheaply: only when all of it is consumed, or the prefix is large).
    func compactInput() {
        if inputStart == input.count {
            if input.capacity > 256 * 1024 { input = [] } else { input.removeAll(keepingCapacity: true) }
            inputStart = 0
            scanFrom = 0
        } else if inputStart > 32 * 1024 {
            input.removeFirst(inputStart)
            scanFrom -= inputStart
            inputStart = 0
        }
    }

    /// Writes queued output until the socket is full. Returns false when the peer is gone.
    func flush() -> Bool {
        while outputStart < output.count {
            let written = output.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + outputStart, bytes.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputStart += written
                wroteSomething = true
                continue
            }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            return false
        }
        if output.capacity > 1024 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputStart = 0
        return true
    }

    /// Sets `deadline` for the current state, keeping a running deadline of the same kind.
    func refreshDeadline(now: UInt64, limits: HTTPServer.Limits) {
        let kind: Deadline
        let span: Duration
        if queuedOutput > 0 {
            kind = .writeStall; span = limits.writeStallTimeout
            if wroteSomething { deadlineKind = .none }
        } else {
            switch state {
            case .head: (kind, span) = unconsumed == 0 ? (.idle, limits.idleTimeout) : (.header, limits.headerTimeout)
            case .body: (kind, span) = (.body, limits.bodyTimeout)
            case .awaiting: (kind, span) = (.none, .zero)
            case .closing: (kind, span) = (.writeStall, limits.writeStallTimeout)
            case .lingering: (kind, span) = (.linger, .seconds(2))
            }
        }
        wroteSomething = false
        if kind == deadlineKind { return }
        deadlineKind = kind
        deadline = kind == .none ? 0 : now &+ span.nanoseconds
    }
}
