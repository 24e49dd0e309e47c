import Glibc
import HostOS

extension HTTPServer {
    /// A listening TCP socket on 127.0.0.1 (`port` 0: the kernel picks), and the port it got.
    /// For tests and benchmarks; the broker's listeners come from inside the agents' namespaces.
    public static func listenLoopback(port: UInt16 = 0) throws(HTTPServerError) -> (FileDescriptor, UInt16) {
        try listenTCP(host: "127.0.0.1", port: port)
    }

    /// A listening TCP socket on `host` (an IPv4 or IPv6 address, `[v6]`, or a name resolved to its
    /// first address) and `port` (0: the kernel picks), and the port it got.
    public static func listenTCP(host: String, port: UInt16) throws(HTTPServerError) -> (FileDescriptor, UInt16) {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, String(port), &hints, &found)
        guard status == 0, let info = found else {
            throw HTTPServerError(.resolution, "cannot listen on \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 || listen(fd, 1024) != 0 {
            let error = HTTPServerError.system("bind \(host):\(port)")
            close(fd)
            throw error
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if named != 0 {
            let error = HTTPServerError.system("getsockname")
            close(fd)
            throw error
        }
        let family = Int32(address.ss_family)
        let bound: UInt16 = withUnsafePointer(to: &address) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (FileDescriptor(rawValue: fd), bound)
    }
}

/// Blocking-socket helpers for the client: connect with a deadline, and read or write with one.
enum ClientSocket {
    /// Resolves `host` (IPv4 or IPv6 literals, or names) and connects to the first address that
    /// answers before `deadline` (monotonic nanoseconds).
    /// `allowAddress` sees each resolved address as numeric text (`93.184.216.34`, `::1`) before
    /// it is tried: the broker's http.fetch refuses names that resolve to addresses it must not reach.
    static func connect(host: String, port: UInt16, deadline: UInt64,
                        allowAddress: (@Sendable (String) -> Bool)? = nil) throws(HTTPServerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        if status != 0 {
            throw HTTPServerError(.resolution, "cannot resolve '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = HTTPServerError(.resolution, "no addresses for '\(host)'")
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            if let allowAddress {
                let address = numericAddress(info.pointee)
                if !allowAddress(address) {
                    lastError = HTTPServerError(.addressNotAllowed, "'\(host)' resolves to \(address), which is not allowed")
                    continue
                }
            }
            do throws(HTTPServerError) {
                return try connect(info.pointee, deadline: deadline)
            } catch { lastError = error }
        }
        throw lastError
    }

    /// The address of `info` as numeric text.
    static func numericAddress(_ info: addrinfo) -> String {
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = getnameinfo(info.ai_addr, info.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
        guard status == 0 else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func connect(_ info: addrinfo, deadline: UInt64) throws(HTTPServerError) -> Int32 {
        let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { throw .system("socket") }
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 && errno != EINPROGRESS {
            let error = HTTPServerError.system("connect")
            close(fd)
            throw error
        }
        do throws(HTTPServerError) {
            try wait(fd, events: Int16(POLLOUT), deadline: deadline)
        } catch {
            close(fd)
            throw error
        }
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
        if failure != 0 {
            close(fd)
            throw .system("connect", failure)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Waits until `fd` is ready for `events`, or throws `.timeout` at `deadline`.
    static func wait(_ fd: Int32, events: Int16, deadline: UInt64) throws(HTTPServerError) {
        while true {
            let now = monotonicNanoseconds()
            if now >= deadline { throw HTTPServerError(.timeout, "timed out") }
            var request = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let ready = poll(&request, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .system("poll") }
        }
    }

    /// Writes all of `bytes` before `deadline`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) throws(HTTPServerError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written > 0 { offset += written; continue }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                try wait(fd, events: Int16(POLLOUT), deadline: deadline)
                continue
            }
            throw HTTPServerError(.connectionClosed, "sending the request failed: \(String(cString: strerror(errno)))", systemError: errno)
        }
    }

    /// Reads what is available (at most `buffer.count` bytes) before `deadline`; 0 at end of stream.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64) throws(HTTPServerError) -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(fd, events: Int16(POLLIN), deadline: deadline)
                continue
            }
            throw HTTPServerError(.connectionClosed, "reading the response failed: \(String(cString: strerror(errno)))", systemError: errno)
        }
    }
}

extension HTTPServer {
    /// A listening unix stream socket at `path` with permission bits `mode`, created atomically:
    /// bound under a temporary name in the same directory, chmod-ed, then renamed over `path`, so
    /// nobody can connect before the mode is right and no caller ever sees a half-made socket.
    /// Whatever is at `path` is replaced: the caller decides first whether that is safe.
    public static func listenUnix(path: String, mode: mode_t = 0o660) throws(HTTPServerError) -> FileDescriptor {
        let temporary = path + ".tmp-\(getpid())"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system("socket") }
        unlink(temporary)
        var failure: HTTPServerError?
        if !UnixAddress.with(temporary, { bind(fd, $0, $1) == 0 }) {
            failure = .system("bind \(temporary)")
        } else if chmod(temporary, mode) != 0 {
            failure = .system("chmod \(temporary)")
        } else if listen(fd, 1024) != 0 {
            failure = .system("listen \(temporary)")
        } else if rename(temporary, path) != 0 {
            failure = .system("rename \(temporary) to \(path)")
        }
        if let failure {
            close(fd)
            unlink(temporary)
            throw failure
        }
        return FileDescriptor(rawValue: fd)
    }
}

/// `sockaddr_un` for a path (at most 107 bytes, as the kernel allows).
enum UnixAddress {
    /// Calls `body` with the address of `path`; false when the path is too long or `body` fails.
    static func with(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Bool) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { errno = ENAMETOOLONG; return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

extension ClientSocket {
    /// Connects to the unix stream socket at `path` (a local connect does not block for long;
    /// the socket is made non-blocking afterwards, as the reads and writes expect).
    static func connectUnix(path: String) throws(HTTPServerError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system("socket") }
        if !UnixAddress.with(path, { Glibc.connect(fd, $0, $1) == 0 }) {
            let error = HTTPServerError.system("connect \(path)")
            close(fd)
            throw error
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        return fd
    }
}
