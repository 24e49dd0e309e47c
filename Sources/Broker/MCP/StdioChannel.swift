import Dispatch
import Glibc
import HostOS
import Specs
import Synchronization

/// JSON-RPC over newline-delimited stdio (the MCP stdio transport), client side: requests wait
/// for the response with their id, with a deadline; lines are bounded; requests the server sends
/// us are answered with -32601 (we offer no client features); notifications are ignored.
final class StdioChannel: Sendable {
    /// The longest line accepted from the server; longer lines are dropped whole.
    static let maximumLine = 8 << 20

    enum Failure: Error, Sendable, CustomStringConvertible {
        case timedOut(String), closed(String), remote(code: Int, message: String), malformed(String)
        var description: String {
            switch self {
            case .timedOut(let method): "no answer to \(method) in time"
            case .closed(let why): "the server is gone (\(why))"
            case .remote(let code, let message): "server error \(code): \(message)"
            case .malformed(let why): "malformed answer: \(why)"
            }
        }
    }

    /// A request waiting for its response.
    final class Slot: Sendable {
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<JSONValue, Failure>?>(nil)
    }

    struct State {
        var nextID = 1
        var pending: [Int: Slot] = [:]
        var closedReason: String?
    }

    /// Our end of the server's stdin (non-blocking; writes poll until the deadline).
    let input: FileDescriptor
    let state = Mutex(State())
    let writeLock = Mutex(())

    init(input: FileDescriptor) {
        self.input = input
        try? input.setNonBlocking(true)
    }

    /// Sends a request and waits for its result until `deadline` (monotonic ns).
    func request(_ method: String, params: JSONValue?, deadline: UInt64) -> Result<JSONValue, Failure> {
        let slot = Slot()
        let registered: Int? = state.withLock { state in
            guard state.closedReason == nil else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = slot
            return id
        }
        guard let id = registered else { return .failure(.closed(state.withLock { $0.closedReason } ?? "closed")) }
        let line = JSONWriter.compactBytes(JSONRPC.request(id: .number(JSONNumber(id)), method: method, params: params))
        if let failure = send(line, deadline: deadline) {
            _ = state.withLock { $0.pending.removeValue(forKey: id) }
            return .failure(failure)
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let wait = deadline > Self.monotonic() ? deadline - Self.monotonic() : 0
        if slot.done.wait(timeout: DispatchTime(uptimeNanoseconds: now + wait)) == .timedOut {
            _ = state.withLock { $0.pending.removeValue(forKey: id) }
            return .failure(.timedOut(method))
        }
        return slot.answer.withLock { $0 } ?? .failure(.closed("no answer"))
    }

    /// Sends a notification (no answer).
    func notify(_ method: String, params: JSONValue?, deadline: UInt64) -> Failure? {
        send(JSONWriter.compactBytes(JSONRPC.request(id: nil, method: method, params: params)), deadline: deadline)
    }

    /// Writes one line (the message has no raw newline: the writer escapes them in strings).
    func send(_ message: [UInt8], deadline: UInt64) -> Failure? {
        writeLock.withLock { _ -> Failure? in
            var bytes = message
            bytes.append(0x0A)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(input.rawValue, $0.baseAddress! + offset, $0.count - offset) }
                if written > 0 { offset += written; continue }
                if written < 0 && errno == EINTR { continue }
                guard written < 0 && errno == EAGAIN else { return .closed("stdin: \(Errno(rawValue: errno))") }
                let now = Self.monotonic()
                guard now < deadline else { return .timedOut("write") }
                var entry = pollfd(fd: input.rawValue, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, Int32(min(1000, (deadline - now) / 1_000_000 + 1)))
            }
            return nil
        }
    }

    /// Handles one line from the server's stdout.
    func receive(_ line: ArraySlice<UInt8>) {
        guard let value = try? JSONParser.parse(Array(line)) else { return }  // servers may log junk; the spec says they must not
        switch JSONRPC.classify(value) {
        case .success(.response(.number(let id), let result)):
            complete(id, .success(result))
        case .success(.failure(.number(let id), let code, let message)):
            complete(id, .failure(.remote(code: code, message: message)))
        case .success(.request(let id, let method, _)):
            let answer = method == "ping" ? JSONRPC.response(id: id, result: .object([:]))
                : JSONRPC.error(id: id, code: JSONRPC.methodNotFound, message: "the broker offers no client method \(method)")
            _ = send(JSONWriter.compactBytes(answer), deadline: Self.monotonic() + 1_000_000_000)
        default:
            break
        }
    }

    func complete(_ id: JSONNumber, _ answer: Result<JSONValue, Failure>) {
        guard let key = id.int64.map(Int.init), let slot = state.withLock({ $0.pending.removeValue(forKey: key) }) else { return }
        slot.answer.withLock { $0 = answer }
        slot.done.signal()
    }

    /// Fails every waiting request and refuses new ones.
    func close(_ reason: String) {
        let waiting = state.withLock { state -> [Slot] in
            if state.closedReason == nil { state.closedReason = reason }
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for slot in waiting {
            slot.answer.withLock { $0 = .failure(.closed(reason)) }
            slot.done.signal()
        }
    }

    /// Reads `output` to its end, line by line (runs on its own thread), then closes the channel.
    func readLoop(_ output: FileDescriptor) {
        var line: [UInt8] = []
        var discarding = false
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(output.rawValue, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var start = 0
            for i in 0..<count where buffer[i] == 0x0A {
                if !discarding { line.append(contentsOf: buffer[start..<i]); receive(line[...]) }
                line.removeAll(keepingCapacity: true)
                discarding = false
                start = i + 1
            }
            if !discarding { line.append(contentsOf: buffer[start..<count]) }
            if line.count > Self.maximumLine { line = []; discarding = true }
        }
        try? output.close()
        close("its stdout closed")
    }

    static func monotonic() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
