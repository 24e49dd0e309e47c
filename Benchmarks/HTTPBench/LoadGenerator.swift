import Glibc
import HTTPServer

/// N keep-alive connections, one thread each, sending the same request back to back; each call's
/// latency (request written to response fully read) goes into a per-thread array.
struct LoadResult {
    var calls: Int
    var seconds: Double
    var latencies: [UInt64]
    var errors: Int

    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let index = min(latencies.count - 1, Int(Double(latencies.count) * fraction))
        return Double(latencies[index]) / 1000
    }

    var line: String {
        let rate = Double(calls) / max(seconds, 1e-9)
        return "calls=\(calls) errors=\(errors) calls_per_second=\(Int(rate)) p50_us=\(format(percentile(0.5))) " +
            "p99_us=\(format(percentile(0.99))) max_us=\(format(percentile(1.0)))"
    }

    private func format(_ value: Double) -> String {
        let scaled = Int((value * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }
}

final class LoadGenerator: @unchecked Sendable {
    let port: UInt16
    let request: [UInt8]
    let connections: Int
    let callsPerConnection: Int
    let warmup: Int

    init(port: UInt16, request: HTTPRequest, connections: Int, calls: Int, warmup: Int) {
        self.port = port
        self.connections = connections
        self.callsPerConnection = max(1, calls / connections)
        self.warmup = warmup
        self.request = Self.encode(request)
    }

    static func encode(_ request: HTTPRequest) -> [UInt8] {
        var text = "\(request.method) \(request.target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for field in request.headers { text += "\(field.name): \(field.value)\r\n" }
        if !request.body.isEmpty { text += "Content-Length: \(request.body.count)\r\n" }
        return Array((text + "\r\n").utf8) + request.body
    }

    func run() throws -> LoadResult {
        var threads: [pthread_t] = []
        // Each worker keeps its own results, read only after its thread is joined.
        let workers = (0..<connections).map { _ in Worker(generator: self) }
        let start = monotonicSeconds()
        for worker in workers {
            let box = Unmanaged.passRetained(worker).toOpaque()
            var handle = pthread_t()
            pthread_create(&handle, nil, { context in
                Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, box)
            threads.append(handle)
        }
        for thread in threads { pthread_join(thread, nil) }
        let seconds = monotonicSeconds() - start
        let latencies = workers.flatMap(\.latencies).sorted()
        return LoadResult(calls: latencies.count, seconds: seconds, latencies: latencies, errors: workers.map(\.failures).reduce(0, +))
    }

    private final class Worker {
        let generator: LoadGenerator
        var latencies: [UInt64] = []
        var failures = 0
        init(generator: LoadGenerator) { self.generator = generator }

        func run() {
            latencies.reserveCapacity(generator.callsPerConnection)
            do {
                let client = try LeanClient(port: generator.port)
                defer { client.close() }
                for _ in 0..<generator.warmup { try client.call(generator.request) }
                for _ in 0..<generator.callsPerConnection {
                    let begin = monotonicNanos()
                    try client.call(generator.request)
                    latencies.append(monotonicNanos() - begin)
                }
            } catch {
                failures += 1
            }
        }
    }
}

/// A keep-alive client with as little work per call as possible: one write, then reads until the
/// head and its body are in: Content-Length bodies by count, chunked ones (streamed answers) up to
/// the last chunk (trailers are not expected). A status other than 2xx counts as an error.
final class LeanClient {
    struct Failure: Error { let message: String }
    enum Framing { case length(Int), chunked(head: Int) }
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, result == 0 else { throw Failure(message: "connect: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    func close() { Glibc.close(fd) }

    func call(_ request: [UInt8]) throws {
        let written = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == request.count else { throw Failure(message: "short write") }
        var filled = 0
        var framing: Framing?
        while !Self.complete(framing, buffer, filled) {
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
            guard count > 0 else { throw Failure(message: "connection closed") }
            filled += count
            if framing == nil, let found = Self.responseFraming(buffer, filled) {
                guard filled > 9, buffer[9] == 0x32 else { throw Failure(message: "status \(String(decoding: buffer[9..<12], as: UTF8.self))") }
                framing = found
            }
        }
    }

    static func complete(_ framing: Framing?, _ buffer: [UInt8], _ filled: Int) -> Bool {
        switch framing {
        case nil: return false
        case .length(let total): return filled >= total
        case .chunked(let head):
            let last: [UInt8] = Array("0\r\n\r\n".utf8)
            guard filled >= head + 5, buffer[(filled - 5)..<filled].elementsEqual(last) else { return false }
            return filled == head + 5 || (buffer[filled - 7] == 13 && buffer[filled - 6] == 10)
        }
    }

    /// How the response is framed, once its head is complete: the total length for Content-Length
    /// (head only when there is neither), or chunked.
    static func responseFraming(_ buffer: [UInt8], _ count: Int) -> Framing? {
        var index = 3
        while index < count {
            if buffer[index] == 10 && buffer[index - 1] == 13 && buffer[index - 2] == 10 && buffer[index - 3] == 13 { break }
            index += 1
        }
        guard index < count else { return nil }
        let headLength = index + 1
        if let value = fieldValue("content-length:", buffer, headLength) {
            var length = 0
            var position = value
            while buffer[position] >= 48 && buffer[position] <= 57 { length = length * 10 + Int(buffer[position] - 48); position += 1 }
            return .length(headLength + length)
        }
        if fieldValue("transfer-encoding:", buffer, headLength) != nil { return .chunked(head: headLength) }
        return .length(headLength)
    }

    /// Where the value of the field `name` (lowercase, with the colon) starts in the head, or nil.
    static func fieldValue(_ name: StaticString, _ buffer: [UInt8], _ headLength: Int) -> Int? {
        let name = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        var line = 0
        while line < headLength {
            var matches = line + name.count < headLength
            var offset = 0
            while matches && offset < name.count {
                matches = buffer[line + offset] | 0x20 == name[offset]
                offset += 1
            }
            if matches {
                var position = line + name.count
                while buffer[position] == 32 { position += 1 }
                return position
            }
            while line < headLength && buffer[line] != 10 { line += 1 }
            line += 1
        }
        return nil
    }
}

func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func monotonicSeconds() -> Double { Double(monotonicNanos()) / 1e9 }
