import Broker
import Sandbox
import Specs
import TraceStore

// One way to start a run's broker, for `warden run` and the supervisor's invocations alike.

/// What a run's broker needs from the spec: its effective broker policy, workspace, MCP servers
/// and the models it serves.
public struct RunBroker {
    public var policy: BrokerPolicy
    public var workspace: String?
    public var spec: AgentSpec
    /// The models the broker serves.
    public var models: ModelCatalog

    /// The settings for a run of `spec` under its effective broker policy `policy`.
    public init(policy: BrokerPolicy, workspace: String?, spec: AgentSpec, models: ModelCatalog = .standard()) {
        self.policy = policy; self.workspace = workspace; self.spec = spec; self.models = models
    }

    public static let fileTools = ["fs.read", "fs.write", "fs.list"]

    /// A fresh host workspace for a run given none whose broker has fs tools: they work on the
    /// workspace from the host, where the default tmpfs (in the sandbox's own mount namespace)
    /// cannot be seen. nil when the run keeps its tmpfs (or has its own --workspace).
    public mutating func hostWorkspace(for request: inout SandboxRun.Request) throws(SandboxRun.Error) -> RunWorkspace? {
        guard workspace == nil, request.workspace == nil, request.workspaceTarget != nil,
              policy.tools.contains(where: { rule in Self.fileTools.contains { rule.covers($0) } }) else { return nil }
        let made = try RunWorkspace.temporaryHost(owner: request.identity)
        request.workspace = made.path
        workspace = made.path
        return made
    }

    /// Starts the broker (OpenAI and MCP surfaces) and the spec's MCP servers, each in its own sandbox.
    public func start(runID: String, trace: TraceRecorder?) throws -> (broker: BrokerRun, tools: MCPRunTools) {
        let surface = MCPSurface()
        let broker = try BrokerRun(policy: policy, runID: runID, workspace: workspace, trace: trace, models: models, mcp: surface)
        let servers = spec.mcpServers.map { server in
            MCPServerConfig(name: server.name, command: server.command,
                            environment: Dictionary(server.environment.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))
        }
        do {
            let tools = try MCPRunTools.start(surface: surface, runID: runID, policy: policy, workspace: workspace,
                                              servers: servers, serverPolicy: spec.policy, codeDirectory: spec.codeDirectory)
            return (broker, tools)
        } catch {
            broker.stop()
            throw error
        }
    }
}
