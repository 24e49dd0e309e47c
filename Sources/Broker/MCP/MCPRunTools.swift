import Guardrails
import Specs

/// The tools side of one agent run, for the run integration: starts the spec's MCP servers (each
/// in its own sandbox under the spec's policy, the agent's code read-only at /agent, no network),
/// builds the run's `ToolRegistry` and attaches it to the MCP surface. `stop` when the run ends:
/// the surface forgets the run and every server's sandbox is killed.
public final class MCPRunTools: Sendable {
    public let surface: MCPSurface
    public let runID: String
    public let registry: ToolRegistry

    init(surface: MCPSurface, runID: String, registry: ToolRegistry) {
        self.surface = surface; self.runID = runID; self.registry = registry
    }

    /// Starts `servers` and attaches the run's tools; if a server cannot start, the ones already
    /// started are stopped and the error names the server.
    public static func start(surface: MCPSurface, runID: String, policy: BrokerPolicy, workspace: String?,
                             workspaceMount: String = "/workspace", servers: [MCPServerConfig], serverPolicy: Policy,
                             codeDirectory: String?, guardrails: GuardrailPipeline? = nil) throws(MCPServerError) -> MCPRunTools {
        var connections: [MCPServerConnection] = []
        for config in servers {
            do {
                connections.append(try MCPServerConnection.start(config, policy: serverPolicy, codeDirectory: codeDirectory))
            } catch {
                for connection in connections { connection.stop() }
                throw error
            }
        }
        let environment = ToolEnvironment(workspace: workspace, workspaceMount: workspaceMount, servers: connections,
                                          guardrails: guardrails)
        let registry = ToolRegistry(policy: policy, environment: environment)
        surface.attach(registry, runID: runID)
        return MCPRunTools(surface: surface, runID: runID, registry: registry)
    }

    /// Detaches the run and kills its servers.
    public func stop() { surface.detach(runID: runID) }
}
