import CHTTPShims
import Glibc

extension EventLoop {
    func accept(on listener: Listener) {
        for _ in 0..<64 {
            let fd = warden_accept(listener.fd)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    listener.pausedUntil = monotonicNanoseconds() + 100_000_000
                    _ = warden_epoll_modify(epollFD, listener.fd, 0, listener.id)
                default: break
                }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let overLimit = listener.connections >= limits.maxConnectionsPerListener
            let connection = Connection(id: nextID, fd: fd, listener: listener, countsTowardLimit: !overLimit)
            nextID += 1
            connections[connection.id] = connection
            if !overLimit { listener.connections += 1 }
            server.stats.update { $0.connections += 1 }
            register(fd, id: connection.id, events: epollIn)
            connection.interest = epollIn
            if overLimit { reject(connection, HTTPRejection(503, "too many connections")) }
            finishStep(connection)
        }
    }

    /// Runs the connection's state machine as far as the bytes at hand allow, then writes.
    func advance(_ connection: Connection) {
        while !connection.closed && step(connection) {}
        if !connection.closed { finishStep(connection) }
    }

    /// Writes what is queued, and updates the deadline and the epoll interest.
    func finishStep(_ connection: Connection) {
        if !connection.flush() { closeConnection(connection); return }
        if connection.state == .closing && connection.queuedOutput == 0 {
            // Close gently: stop sending, then read and drop until the peer closes, so unread
            // request bytes do not turn our close into a reset that destroys the error response.
            shutdown(connection.fd, Int32(SHUT_WR))
            connection.state = .lingering
            connection.input = []
            connection.inputStart = 0
        }
        connection.refreshDeadline(now: monotonicNanoseconds(), limits: limits)
        updateInterest(connection)
    }

    /// One transition; true when another may follow at once.
    private func step(_ connection: Connection) -> Bool {
        switch connection.state {
        case .head:
            if connection.queuedOutput >= limits.maxQueuedOutputBytes { return false }
            return readHead(connection)
        case .body: return readBody(connection)
        case .awaiting: return pump(connection)
        case .closing, .lingering: return false
        }
    }

    private func readHead(_ connection: Connection) -> Bool {
        connection.compactInput()
        // RFC 9112 §2.2: ignore empty lines before a request line.
        while connection.inputStart < connection.input.count,
              connection.input[connection.inputStart] == HTTPBytes.cr || connection.input[connection.inputStart] == HTTPBytes.lf {
            connection.inputStart += 1
        }
        let start = connection.inputStart
        if connection.unconsumed == 0 { return false }
        let parsed: Result<RequestHead, HTTPRejection>? = connection.input.withUnsafeBufferPointer { all in
            guard let end = HTTPBytes.headerEnd(all, from: max(connection.scanFrom, start)) else {
                // A line ended by a bare LF would never complete the head: refuse it now, not at the timeout.
                if HTTPBytes.hasBareLF(all, from: max(connection.scanFrom, start + 1)) {
                    return .failure(HTTPRejection(400, "line ended by a bare LF"))
                }
                connection.scanFrom = max(start, all.count - 3)
                if all.count - start <= limits.maxHeaderBytes { return nil }
                let lineTooLong = HTTPBytes.lineEnd(all, from: start) == nil && all.count - start > limits.maxRequestLineBytes
                return .failure(HTTPRejection(lineTooLong ? 414 : 431, lineTooLong ? "request line too long" : "request header too large"))
            }
            if end + 4 - start > limits.maxHeaderBytes { return .failure(HTTPRejection(431, "request header too large")) }
            connection.inputStart = end + 4
            connection.scanFrom = end + 4
            do throws(HTTPRejection) {
                return .success(try RequestHeadParser.parse(UnsafeBufferPointer(rebasing: all[start..<end]), limits: limits))
            } catch { return .failure(error) }
        }
        switch parsed {
        case nil: return false
        case .failure(let rejection): reject(connection, rejection); return false
        case .success(let head): return beginBody(connection, head: head)
        }
    }

    private func beginBody(_ connection: Connection, head: RequestHead) -> Bool {
        let framing: RequestFraming
        do throws(HTTPRejection) { framing = try RequestFraming.decide(head, maxBody: limits.maxBodyBytes) } catch {
            reject(connection, error)
            return false
        }
        connection.framing = framing
        switch framing.body {
        case .none:
            dispatch(connection, head: head, body: [])
            return true
        case .length(let length):
            connection.body.reserveCapacity(min(length, 64 * 1024))
        case .chunked:
            connection.chunked = ChunkedDecoder(maxBody: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes,
                                                maxTrailerCount: limits.maxHeaderCount)
        }
        connection.head = head
        connection.state = .body
        if framing.expectContinue && connection.unconsumed == 0 {
            connection.output += ResponseEncoder.continueResponse
        }
        return true
    }

    private func readBody(_ connection: Connection) -> Bool {
        guard let head = connection.head else { return false }
        if connection.unconsumed == 0 && connection.chunked == nil { return false }
        if case .length(let length) = connection.framing.body {
            let take = min(length - connection.body.count, connection.unconsumed)
            connection.body += connection.input[connection.inputStart..<(connection.inputStart + take)]
            connection.inputStart += take
            if connection.body.count < length { return false }
        } else if var decoder = connection.chunked {
            let consumed: Result<Int, HTTPRejection> = connection.input.withUnsafeBufferPointer { all in
                do throws(HTTPRejection) {
                    return .success(try decoder.decode(UnsafeBufferPointer(rebasing: all[connection.inputStart...]), into: &connection.body))
                } catch { return .failure(error) }
            }
            switch consumed {
            case .failure(let rejection): reject(connection, rejection); return false
            case .success(let count): connection.inputStart += count
            }
            connection.chunked = decoder
            if !decoder.isDone { return false }
        }
        let body = connection.body
        connection.body = []
        connection.head = nil
        connection.chunked = nil
        dispatch(connection, head: head, body: body)
        return true
    }

    private func dispatch(_ connection: Connection, head: RequestHead, body: [UInt8]) {
        let channel = ResponseChannel(
            connectionID: connection.id, mailbox: server.mailbox, maxQueued: limits.maxQueuedOutputBytes,
            isHead: head.method == "HEAD", minorVersion: head.minorVersion, keepAlive: connection.framing.keepAlive && running
        )
        connection.channel = channel
        connection.state = .awaiting
        connection.compactInput()
        server.stats.update { $0.requests += 1 }
        let request = HTTPRequest(method: head.method, target: head.target, headers: head.headers, body: body)
        server.handler.handle(request, connection: HTTPConnectionInfo(listener: connection.listener.tag, connection: connection.id),
                              responder: ResponderHandle(channel))
    }

    /// Takes the producer's bytes; true when the response is complete and the next request may be read.
    private func pump(_ connection: Connection) -> Bool {
        guard let channel = connection.channel else { return false }
        if !connection.flush() { closeConnection(connection); return false }
        let taken = channel.take(into: &connection.output, queued: connection.queuedOutput)
        let queued = connection.queuedOutput
        if queued > maxQueuedSeen {
            maxQueuedSeen = queued
            server.stats.update { $0.maxQueuedBytes = max($0.maxQueuedBytes, queued) }
        }
        if !taken.finished {
            // Write now, and tell the producer how much is left, so its next bytes find room.
            if !connection.flush() { closeConnection(connection); return false }
            channel.report(queued: connection.queuedOutput)
            return false
        }
        connection.channel = nil
        connection.state = taken.close ? .closing : .head
        return !taken.close
    }

    /// Answers `rejection` and closes the connection once it is written.
    func reject(_ connection: Connection, _ rejection: HTTPRejection) {
        server.stats.update { $0.rejections += 1 }
        connection.channel?.kill()
        connection.channel = nil
        connection.head = nil
        connection.body = []
        connection.chunked = nil
        connection.output += ResponseEncoder.errorResponse(rejection)
        connection.state = .closing
    }
}
