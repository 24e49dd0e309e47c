import Glibc
import HTTPServer
import HostOS
import Broker

/// `warden serve` without the command line: the supervisor recovered from its store, serving the
/// control API on its unix socket, until `shutdown`.
public final class SupervisorDaemon: Sendable {
    public let supervisor: Supervisor
    public let socketPath: String
    let server: HTTPServer

    /// Opens the store, recovers what a crash left, and starts answering on the control socket.
    /// Throws `.alreadyRunning` when a live supervisor answers on the socket.
    public static func start(config: SupervisorConfig) throws(SupervisorError) -> (SupervisorDaemon, RecoverySummary) {
        // Claim the socket first: a second daemon must not touch the first one's runs or store.
        let listener = try ControlSocket.listen(path: config.socketPath)
        let supervisor: Supervisor
        let summary: RecoverySummary
        do throws(SupervisorError) {
            supervisor = try Supervisor(config: config)
            summary = try supervisor.recover()
        } catch {
            try? listener.close()
            unlink(config.socketPath)
            throw error
        }
        var limits = HTTPServer.Limits()
        limits.idleTimeout = .seconds(300)
        limits.writeStallTimeout = .seconds(300)
        let modelAPI: Broker
        do throws(SupervisorError) { modelAPI = try ControlAPI.modelBroker(for: supervisor) } catch {
            try? listener.close()
            unlink(config.socketPath)
            throw error
        }
        let server = HTTPServer(handler: ControlAPI(supervisor: supervisor, modelAPI: modelAPI), limits: limits)
        do throws(HTTPServerError) {
            try server.addListener(listener, tag: 0)
            try server.start()
        } catch {
            server.stop()
            unlink(config.socketPath)
            throw SupervisorError(.io, "cannot serve on \(config.socketPath): \(error)")
        }
        return (SupervisorDaemon(supervisor: supervisor, socketPath: config.socketPath, server: server), summary)
    }

    private init(supervisor: Supervisor, socketPath: String, server: HTTPServer) {
        self.supervisor = supervisor
        self.socketPath = socketPath
        self.server = server
    }

    /// The daemon as services, in start order: the model pool, the control socket, the supervisor.
    /// A group stops them in reverse: the supervisor first (new invocations refused with 503 while the
    /// socket still answers; running and queued ones get `graceSeconds`; agents stopped; traces
    /// flushed), then the socket (removed, connections closed), then the pool (workers freed).
    public func services(graceSeconds: Double) -> [any Service] {
        [ClosingService(name: "model pool") { [supervisor] in supervisor.models.shutdown() },
         ClosingService(name: "control socket") { [server, socketPath] in
             unlink(socketPath)
             server.stop()
         },
         ClosingService(name: "supervisor") { [supervisor] in supervisor.shutdown(graceSeconds: graceSeconds) }]
    }
}
