import CHTTPShims
import Glibc

let epollIn = warden_epoll_in
let epollOut = warden_epoll_out
let epollErr = warden_epoll_err
let epollHup = warden_epoll_hup
let epollRdhup = warden_epoll_rdhup

/// The server's loop: one thread, one epoll set, every listener and connection. Everything in
/// here runs on that thread; other threads reach it only through the mailbox.
final class EventLoop {
    let server: HTTPServer
    let limits: HTTPServer.Limits
    let epollFD: Int32
    var listeners: [UInt64: Listener] = [:]
    var connections: [UInt64: Connection] = [:]
    var nextID: UInt64 = 1
    var running = true
    let scratch: UnsafeMutableRawBufferPointer
    /// How often deadlines are checked: a quarter of the shortest timeout, between 5 ms and 250 ms.
    let sweepInterval: UInt64
    var nextSweep: UInt64 = 0
    var maxQueuedSeen = 0

    init(server: HTTPServer) throws(HTTPServerError) {
        self.server = server
        self.limits = server.limits
        epollFD = warden_epoll_create()
        if epollFD < 0 { throw .system("epoll_create1") }
        scratch = .allocate(byteCount: 64 * 1024, alignment: 16)
        let shortest = [limits.headerTimeout, limits.bodyTimeout, limits.idleTimeout, limits.writeStallTimeout]
            .map(\.nanoseconds).min() ?? 1_000_000_000
        sweepInterval = min(max(shortest / 4, 5_000_000), 250_000_000)
    }

    deinit {
        close(epollFD)
        scratch.deallocate()
    }

    func run() {
        register(server.mailbox.eventFD, id: 0, events: epollIn)
        let capacity = 256
        let ids = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        defer { ids.deallocate(); events.deallocate() }
        while running {
            let count = warden_epoll_wait(epollFD, ids, events, Int32(capacity), Int32(sweepInterval / 1_000_000))
            if count < 0 && errno != EINTR { break }
            for index in 0..<max(Int(count), 0) {
                let id = ids[index]
                let flags = events[index]
                if id == 0 { handleCommands() }
                else if let connection = connections[id] { handle(connection, flags: flags) }
                else if let listener = listeners[id] { accept(on: listener) }
            }
            let now = monotonicNanoseconds()
            if now >= nextSweep { sweep(now: now); nextSweep = now + sweepInterval }
        }
        for connection in Array(connections.values) { closeConnection(connection) }
        for listener in Array(listeners.values) { closeListener(listener) }
        for command in server.mailbox.drain() {
            switch command {
            case .addListener(let fd, _): close(fd)
            case .pump(let channel): channel.kill()
            case .removeListener, .stop: break
            }
        }
    }

    private func handleCommands() {
        for command in server.mailbox.drain() {
            switch command {
            case .addListener(let fd, let tag):
                let listener = Listener(id: nextID, fd: fd, tag: tag)
                nextID += 1
                listeners[listener.id] = listener
                register(fd, id: listener.id, events: epollIn)
            case .removeListener(let tag):
                for listener in listeners.values where listener.tag == tag { closeListener(listener) }
            case .pump(let channel):
                if let connection = connections[channel.connectionID], connection.channel === channel {
                    advance(connection)
                } else {
                    channel.kill()
                }
            case .stop:
                running = false
            }
        }
    }

    private func handle(_ connection: Connection, flags: UInt32) {
        // HUP or ERR: both directions are gone (a half-close is not a HUP), nobody can read an answer.
        if flags & (epollErr | epollHup) != 0 { closeConnection(connection); return }
        if flags & epollRdhup != 0, connection.state == .awaiting, !connection.peerFinished {
            // The client stopped sending while its request is being worked on: it has closed the
            // connection (or half-closed it, which HTTP clients do not do mid-request). The answer
            // is still written if it comes, but the handler may stop working on it.
            connection.peerFinished = true
            connection.framing.keepAlive = false
            connection.channel?.notePeerFinished()
        }
        if flags & epollOut != 0 && !connection.flush() { closeConnection(connection); return }
        if flags & epollIn != 0 { readAvailable(connection) }
        if !connection.closed { advance(connection) }
    }

    private func readAvailable(_ connection: Connection) {
        let count = recv(connection.fd, scratch.baseAddress, scratch.count, 0)
        if count > 0 {
            if connection.state == .lingering { return }
            connection.input.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: count))
        } else if count == 0 {
            // End of input. A half-closed peer still gets the answer it is waiting for.
            if connection.state == .awaiting { connection.framing.keepAlive = false; return }
            closeConnection(connection)
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            closeConnection(connection)
        }
    }

    func register(_ fd: Int32, id: UInt64, events: UInt32) {
        _ = warden_epoll_add(epollFD, fd, events, id)
    }

    /// Reads only while a request is being received (pipelined requests wait until the current
    /// one is answered, and while the peer is not reading what it already asked for).
    func updateInterest(_ connection: Connection) {
        var wanted: UInt32 = 0
        switch connection.state {
        case .head: if connection.queuedOutput < limits.maxQueuedOutputBytes { wanted |= epollIn }
        case .body, .lingering: wanted |= epollIn
        case .awaiting: if !connection.peerFinished { wanted |= epollRdhup }
        case .closing: break
        }
        if connection.queuedOutput > 0 { wanted |= epollOut }
        if wanted == connection.interest { return }
        connection.interest = wanted
        _ = warden_epoll_modify(epollFD, connection.fd, wanted, connection.id)
    }

    func closeConnection(_ connection: Connection) {
        if connection.closed { return }
        connection.closed = true
        close(connection.fd)
        connection.channel?.kill()
        connection.channel = nil
        connections[connection.id] = nil
        if connection.countsTowardLimit { connection.listener.connections -= 1 }
        server.stats.update { $0.connections -= 1 }
    }

    private func closeListener(_ listener: Listener) {
        close(listener.fd)
        listeners[listener.id] = nil
        for connection in Array(connections.values) where connection.listener === listener { closeConnection(connection) }
    }

    /// Enforces deadlines: 408 for a slow head or body, a quiet close for idle, stalled and lingering ones.
    private func sweep(now: UInt64) {
        for listener in listeners.values where listener.pausedUntil != 0 && now >= listener.pausedUntil {
            listener.pausedUntil = 0
            _ = warden_epoll_modify(epollFD, listener.fd, epollIn, listener.id)
        }
        for connection in Array(connections.values) where connection.deadline != 0 && now >= connection.deadline {
            switch connection.deadlineKind {
            case .header, .body:
                reject(connection, HTTPRejection(408, "request not received in time"))
                finishStep(connection)
            case .idle, .writeStall, .linger, .none:
                closeConnection(connection)
            }
        }
    }
}
