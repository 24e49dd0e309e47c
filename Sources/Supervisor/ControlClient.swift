import HTTPServer
import Specs

/// The CLI's side of the control API: one request per connection on the unix socket.
public struct ControlClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// A finished response: its status, body, and the body parsed as JSON when it is JSON.
    public struct Reply: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var json: JSONValue? { try? JSONParser.parse(body) }

        /// The API's error message (`{"error": {"message"}}`), or the status line.
        public var errorMessage: String {
            if case .object(let o)? = json, case .object(let e)? = o["error"], case .string(let m)? = e["message"] { return m }
            return "HTTP \(status)"
        }
    }

    /// Sends one request and reads the whole response (no time limit by default: `--wait` may be long).
    public func request(_ method: String, _ target: String, body: [UInt8] = [], timeout: Duration = .seconds(86_400)) throws(SupervisorError) -> Reply {
        let connection = try connect()
        defer { connection.close() }
        do throws(HTTPServerError) {
            let response = try connection.send(request(method, target, body), timeout: timeout, maxResponseBytes: 1 << 30)
            return Reply(status: response.status, body: response.body)
        } catch {
            throw SupervisorError(.unreachable, "the supervisor on \(socketPath) did not answer: \(error)")
        }
    }

    /// Sends one request and hands each piece of the response body to `piece` as it arrives
    /// (`logs -f`); returns the status.
    public func stream(_ method: String, _ target: String, piece: ([UInt8]) -> Void) throws(SupervisorError) -> Reply {
        let connection = try connect()
        defer { connection.close() }
        do throws(HTTPServerError) {
            let stream = try connection.stream(request(method, target, []), timeout: .seconds(86_400 * 365), maxResponseBytes: Int.max)
            var reply = Reply(status: stream.status, body: [])
            while let bytes = try stream.next() {
                if reply.status == 200 { piece(bytes) } else { reply.body += bytes }
            }
            return reply
        } catch {
            throw SupervisorError(.unreachable, "the supervisor on \(socketPath) stopped answering: \(error)")
        }
    }

    private func request(_ method: String, _ target: String, _ body: [UInt8]) -> HTTPRequest {
        var headers = HTTPHeaders()
        headers.add("Connection", "close")
        if !body.isEmpty { headers.add("Content-Type", "application/octet-stream") }
        return HTTPRequest(method: method, target: target, headers: headers, body: body)
    }

    private func connect() throws(SupervisorError) -> HTTPClientConnection {
        do throws(HTTPServerError) { return try HTTPClientConnection(unixSocket: socketPath) } catch {
            throw SupervisorError(.unreachable, "no supervisor answers on \(socketPath) (\(error)); start one with `warden serve`")
        }
    }
}
