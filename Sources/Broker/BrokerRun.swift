import Glibc
import HTTPServer
import HostOS
import Sandbox
import Specs
import TraceStore

/// The broker side of one sandboxed run: a per-run token, an `AgentEndpoint`, an HTTP server that
/// takes over the listening socket the launcher made inside the agent's network namespace, and the
/// environment that points unmodified clients at it.
///
/// `attach` before `SandboxRun.execute`, `stop` after it returns.
public final class BrokerRun: Sendable {
    public let broker: Broker
    public let endpoint: AgentEndpoint
    public let server: HTTPServer
    /// The loopback port inside the agent's netns.
    public let port: UInt16
    /// The listener tag the endpoint is served on.
    static let tag = 1

    /// Starts the server (no listener yet) for a run under `policy`.
    public init(policy: BrokerPolicy, runID: String, workspace: String?, trace: TraceRecorder?, models: ModelCatalog,
                mcp: (any BrokerSurface)? = nil, workerThreads: Int = 4) throws(BrokerError) {
        let endpoint: AgentEndpoint
        do { endpoint = try AgentEndpoint(runID: runID, token: Self.newToken(), policy: policy, workspace: workspace, trace: trace) } catch {
            throw BrokerError(.internalError, "the broker policy's guardrails: \(error)")
        }
        self.endpoint = endpoint
        port = policy.port
        broker = Broker(models: models, mcp: mcp, workerThreads: workerThreads)
        broker.register(endpoint, listener: Self.tag)
        server = HTTPServer(handler: broker)
        do { try server.start() } catch { throw BrokerError(.internalError, "cannot start the broker's server: \(error)") }
    }

    /// What the agent is given: where the OpenAI API and MCP are, and its key.
    public var environment: [String: String] {
        ["OPENAI_BASE_URL": "http://127.0.0.1:\(port)/v1", "OPENAI_API_KEY": endpoint.token,
         "WARDEN_MCP_URL": "http://127.0.0.1:\(port)/mcp"]
    }

    /// Asks the launcher for the listener and the environment, and takes the socket once the agent runs.
    public func attach(_ request: inout SandboxRun.Request, _ settings: inout SandboxRun.Settings) {
        request.loopbackListenPorts = [port]
        for (name, value) in environment { request.environment[name] = value }
        let server = self.server
        let previous = settings.onLaunch
        settings.onLaunch = { listeners in
            previous?(listeners)
            // The run keeps (and closes) its own descriptor; the server owns a duplicate.
            guard let listener = listeners.first else { return }
            let copy = fcntl(listener, F_DUPFD_CLOEXEC, 3)
            do throws(HTTPServerError) {
                guard copy >= 0 else { throw HTTPServerError(.notListening, "cannot duplicate the listener (errno \(errno))") }
                try server.addListener(FileDescriptor(rawValue: copy), tag: BrokerRun.tag)
            } catch {
                // The agent's calls would hang unanswered: say why, where the operator sees it.
                let line = Array("warden: the broker cannot serve this run: \(error)\n".utf8)
                _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
                if copy >= 0 { close(copy) }
            }
        }
    }

    /// Stops serving: closes the listener and every connection (in-flight streams see their writes fail).
    /// The run's model requests still queued or generating are cancelled (their KV memory freed).
    public func stop() {
        server.stop()
        broker.unregister(listener: Self.tag)
        broker.models.cancelAll(agent: endpoint.runID)
    }

    /// 32 random bytes in hex, prefixed so the key is recognisable in logs (`wdn-…`).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = "wdn-"
        for _ in 0..<4 {
            let word = String(generator.next() as UInt64, radix: 16)
            text += String(repeating: "0", count: 16 - word.count) + word
        }
        return text
    }
}
