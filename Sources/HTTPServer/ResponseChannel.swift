import HostOS
import CHTTPShims
import Glibc

/// The server's `HTTPResponder`: collects one response's bytes for the event loop, which takes them
/// into the connection's output as the socket drains. Producers on other threads block in `write`
/// while `maxQueued` bytes are waiting (backpressure); on the loop thread they never block.
final class ResponseChannel: HTTPResponder, @unchecked Sendable {
    enum Phase { case fresh, streaming, done }

    let connectionID: UInt64
    private let mailbox: LoopMailbox
    private let loopThread: pthread_t
    private let maxQueued: Int
    private let isHead: Bool
    /// HTTP/1.1 peers get chunked streams; HTTP/1.0 peers get a body delimited by closing.
    private let canChunk: Bool
    private let keepAlive: Bool

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var pending: [UInt8] = []
    private var phase = Phase.fresh
    private var dead = false
    private var peerFinished = false
    private var pumpPosted = false
    private var closeAfter = false
    /// The connection's unsent output as of the loop's last look: with `pending` it makes the
    /// queue the producer is held to (so the total stays within `maxQueued` plus one write).
    private var loopQueued = 0

    init(connectionID: UInt64, mailbox: LoopMailbox, maxQueued: Int, isHead: Bool, minorVersion: Int, keepAlive: Bool) {
        self.connectionID = connectionID; self.mailbox = mailbox; self.loopThread = pthread_self()
        self.maxQueued = maxQueued; self.isHead = isHead; self.canChunk = minorVersion == 1; self.keepAlive = keepAlive
        closeAfter = !keepAlive
    }

    private var onLoopThread: Bool { pthread_equal(pthread_self(), loopThread) != 0 }

    func respond(_ response: HTTPResponse) {
        lock.lock()
        guard phase == .fresh, !dead else { lock.unlock(); return }
        pending += ResponseEncoder.head(status: response.status, headers: response.headers,
                                        framing: .length(response.body.count), close: closeAfter, keepAlive: !canChunk)
        if !isHead && response.status >= 200 && response.status != 204 && response.status != 304 { pending += response.body }
        phase = .done
        requestPumpLocked()
    }

    func startStream(status: Int, headers: HTTPHeaders) {
        lock.lock()
        guard phase == .fresh, !dead else { lock.unlock(); return }
        if !canChunk { closeAfter = true }
        pending += ResponseEncoder.head(status: status, headers: headers, framing: canChunk ? .chunked : .untilClose, close: closeAfter)
        phase = .streaming
        requestPumpLocked()
    }

    @discardableResult func write(_ bytes: [UInt8]) -> Bool {
        lock.lock()
        guard phase == .streaming, !dead else { lock.unlock(); return false }
        if bytes.isEmpty || isHead { lock.unlock(); return true }
        if !onLoopThread {
            // The loop signals when it takes bytes or the connection dies (peer gone, write stall).
            while pending.count + loopQueued >= maxQueued && !dead { lock.wait(untilMonotonic: monotonicNanoseconds() + 1_000_000_000) }
            if dead { lock.unlock(); return false }
        }
        if canChunk { ResponseEncoder.appendChunk(&pending, bytes) } else { pending += bytes }
        requestPumpLocked()
        return true
    }

    func finish() {
        lock.lock()
        switch phase {
        case .done: lock.unlock(); return
        case .fresh:
            lock.unlock()
            respond(HTTPResponse(status: 500, body: Array("the handler finished without a response\n".utf8)))
            return
        case .streaming:
            if dead { phase = .done; lock.unlock(); return }
            if canChunk && !isHead { pending += ResponseEncoder.lastChunk }
            phase = .done
            requestPumpLocked()
        }
    }

    /// Asks the loop to take the pending bytes, then unlocks. On the loop thread the loop pumps after
    /// the handler returns, so no wake-up is needed.
    private func requestPumpLocked() {
        let post = !pumpPosted && !onLoopThread
        if post { pumpPosted = true }
        lock.unlock()
        if post { mailbox.post(.pump(self)) }
    }

    /// The handler let go of the responder without finishing: a fresh response becomes a 500; a
    /// started stream ends by closing the connection (a truncated chunked body reads as an error
    /// on the peer), so the connection never hangs on a lost responder.
    func abandon() {
        lock.lock()
        switch phase {
        case .done: lock.unlock(); return
        case .fresh where !dead:
            let body = Array("the handler dropped the request without answering\n".utf8)
            pending += ResponseEncoder.head(status: 500, headers: HTTPHeaders(), framing: .length(body.count), close: closeAfter)
            if !isHead { pending += body }
        default:
            closeAfter = true
        }
        phase = .done
        let post = !pumpPosted
        pumpPosted = true
        lock.unlock()
        // Posted even on the loop thread: the release may come from outside a handler call.
        if post { mailbox.post(.pump(self)) }
    }

    // MARK: Loop side

    /// Moves the pending bytes into `out` (which holds `queued` unsent bytes), and reports whether
    /// the response is complete and whether the connection closes after it.
    func take(into out: inout [UInt8], queued: Int) -> (finished: Bool, close: Bool) {
        lock.lock()
        defer { lock.unlock() }
        pumpPosted = false
        let moved = pending.count
        if moved > 0 {
            if out.isEmpty { swap(&out, &pending) } else { out += pending; pending.removeAll(keepingCapacity: true) }
        }
        if moved > 0 || queued < loopQueued { lock.broadcast() }
        loopQueued = queued + moved
        return (phase == .done, closeAfter)
    }

    /// The connection's unsent output after a write: wakes a producer waiting for room.
    func report(queued: Int) {
        lock.lock()
        if queued < loopQueued { lock.broadcast() }
        loopQueued = queued
        lock.unlock()
    }

    /// The connection is gone: producers stop and `write` returns false from now on.
    /// The peer stopped sending while this request was being answered (it went away).
    func notePeerFinished() { lock.withLock { peerFinished = true } }

    var peerHasGone: Bool { lock.withLock { dead || peerFinished } }

    func kill() {
        lock.withLock {
            dead = true
            pending = []
            lock.broadcast()
        }
    }
}

/// Commands for the loop thread from other threads, with an eventfd to wake it.
final class LoopMailbox: @unchecked Sendable {
    enum Command { case addListener(Int32, Int), removeListener(Int), pump(ResponseChannel), stop }

    let eventFD: Int32
    private let lock = ConditionLock()
    private var commands: [Command] = []

    /// -1 when eventfd failed (`HTTPServer.start` reports it).
    init() { eventFD = warden_eventfd() }

    deinit { if eventFD >= 0 { close(eventFD) } }

    func post(_ command: Command) {
        lock.lock()
        let wasEmpty = commands.isEmpty
        commands.append(command)
        lock.unlock()
        if wasEmpty {
            var one: UInt64 = 1
            _ = Glibc.write(eventFD, &one, 8)
        }
    }

    /// Resets the eventfd first, then takes the commands, so a post racing with this wakes again.
    func drain() -> [Command] {
        var counter: UInt64 = 0
        _ = read(eventFD, &counter, 8)
        return lock.withLock {
            var taken: [Command] = []
            swap(&taken, &commands)
            return taken
        }
    }
}

/// What the handler holds: forwards to the channel, and abandons it when released unanswered.
final class ResponderHandle: HTTPResponder, @unchecked Sendable {
    let channel: ResponseChannel

    init(_ channel: ResponseChannel) { self.channel = channel }

    deinit { channel.abandon() }

    func respond(_ response: HTTPResponse) { channel.respond(response) }
    func startStream(status: Int, headers: HTTPHeaders) { channel.startStream(status: status, headers: headers) }
    @discardableResult func write(_ bytes: [UInt8]) -> Bool { channel.write(bytes) }
    func finish() { channel.finish() }
    var peerHasGone: Bool { channel.peerHasGone }
}
