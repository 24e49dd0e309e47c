import CHTTPShims
import Glibc
import HTTPServer

/// The baseline: a minimal epoll loop on one thread that answers a fixed response for every
/// "\r\n\r\n" it sees, parsing nothing else (so it handles body-less requests only). What is left
/// of a benchmark after subtracting this is the cost of HTTP handling and whatever runs behind it.
final class RawEchoServer: @unchecked Sendable {
    static let response: [UInt8] = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)

    let port: UInt16
    private let listener: Int32
    private let epollFD: Int32
    private let stopFD: Int32
    private var thread: pthread_t?
    /// Per connection: how much of "\r\n\r\n" the last bytes matched.
    private var matched: [Int32: Int] = [:]

    init() throws {
        let (fd, port) = try HTTPServer.listenLoopback()
        listener = fd.rawValue
        self.port = port
        epollFD = warden_epoll_create()
        stopFD = warden_eventfd()
        let flags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, flags | O_NONBLOCK)
        _ = warden_epoll_add(epollFD, listener, warden_epoll_in, UInt64(listener))
        _ = warden_epoll_add(epollFD, stopFD, warden_epoll_in, UInt64(stopFD))
        var handle = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&handle, nil, { context in
            let server = Unmanaged<RawEchoServer>.fromOpaque(context!).takeRetainedValue()
            server.run()
            return nil
        }, box)
        thread = handle
    }

    func stop() {
        var one: UInt64 = 1
        _ = write(stopFD, &one, 8)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func run() {
        let ids = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { ids.deallocate(); events.deallocate(); buffer.deallocate() }
        loop: while true {
            let count = warden_epoll_wait(epollFD, ids, events, 64, -1)
            for index in 0..<max(Int(count), 0) {
                let fd = Int32(ids[index])
                if fd == stopFD { break loop }
                if fd == listener { acceptAll(); continue }
                serve(fd, buffer: buffer)
            }
        }
        for fd in matched.keys { close(fd) }
        close(listener); close(epollFD); close(stopFD)
    }

    private func acceptAll() {
        while true {
            let fd = warden_accept(listener)
            if fd < 0 { return }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            matched[fd] = 0
            _ = warden_epoll_add(epollFD, fd, warden_epoll_in, UInt64(fd))
        }
    }

    private func serve(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer) {
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count <= 0 {
            if count == 0 || (errno != EAGAIN && errno != EINTR) { matched[fd] = nil; close(fd) }
            return
        }
        var state = matched[fd] ?? 0
        var requests = 0
        let terminator: [UInt8] = [13, 10, 13, 10]
        for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<count]) {
            state = byte == terminator[state] ? state + 1 : (byte == 13 ? 1 : 0)
            if state == 4 { requests += 1; state = 0 }
        }
        matched[fd] = state
        for _ in 0..<requests {
            _ = Self.response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }
}
