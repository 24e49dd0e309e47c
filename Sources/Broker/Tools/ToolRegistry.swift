import Guardrails
import Sandbox
import Specs

/// What the tools of one run need besides the policy: the host workspace, the strict policy for
/// code.exec, and the run's started MCP servers.
public struct ToolEnvironment: Sendable {
    /// The run's workspace on the host (fs.* tools work beneath it); nil: the run has none.
    public var workspace: String?
    /// Where the agent sees the workspace (`/workspace`).
    public var workspaceMount: String
    /// The policy code.exec runs under (default: strict.json in `PolicyDirectory.locate()`).
    public var strictPolicyPath: String?
    /// The run's MCP servers, already started and initialized.
    public var servers: [MCPServerConnection]
    /// Screens the servers' tool descriptions (stage tool_result) before the agent's model sees
    /// them: a server is untrusted, and a description is a prompt ("tool poisoning").
    public var guardrails: GuardrailPipeline?

    public init(workspace: String? = nil, workspaceMount: String = "/workspace", strictPolicyPath: String? = nil,
                servers: [MCPServerConnection] = [], guardrails: GuardrailPipeline? = nil) {
        self.workspace = workspace; self.workspaceMount = workspaceMount
        self.strictPolicyPath = strictPolicyPath; self.servers = servers; self.guardrails = guardrails
    }
}

/// The tools one run may call: each built-in or server tool the policy names, paired with the rule
/// that allows it. A tool the policy does not name is neither listed nor callable.
public final class ToolRegistry: Sendable {
    /// An allowed tool and its rule.
    public struct Entry: Sendable {
        public let tool: any BrokerTool
        public let rule: ToolRule
    }

    public let entries: [Entry]
    /// Tools the policy allows but this run cannot offer, with the reason (no workspace, ...).
    public let unavailable: [String]
    let servers: [MCPServerConnection]

    /// Builds the registry for `policy`; tools that cannot be set up are left out and explained in `unavailable`.
    public init(policy: BrokerPolicy, environment: ToolEnvironment) {
        var entries: [Entry] = []
        var unavailable: [String] = []
        let builtIns = Self.builtIns(policy: policy, environment: environment, unavailable: &unavailable)
        for tool in builtIns {
            if let rule = policy.tools.first(where: { $0.covers(tool.descriptor.name) }) { entries.append(Entry(tool: tool, rule: rule)) }
        }
        for server in environment.servers {
            for tool in server.tools {
                let name = server.name + "." + tool.name
                guard let rule = policy.tools.first(where: { $0.covers(name) }) else { continue }
                switch Self.screen(tool, named: name, environment.guardrails) {
                case .success(let shown): entries.append(Entry(tool: MCPServerTool(server: server, remote: shown), rule: rule))
                case .failure(let refusal): unavailable.append(refusal.message)
                }
            }
        }
        self.entries = entries
        self.unavailable = unavailable
        self.servers = environment.servers
    }

    /// The allowed tool called `name`, or nil.
    public func entry(named name: String) -> Entry? { entries.first { $0.tool.descriptor.name == name } }

    /// What `tools/list` shows.
    public var descriptors: [ToolDescriptor] { entries.map(\.tool.descriptor) }

    /// Stops the run's MCP servers (their sandboxes are killed).
    public func shutdown() { for server in servers { server.stop() } }

    struct Refusal: Error { let message: String }

    /// A server tool's description and schema through the guardrails: blocked leaves the tool out,
    /// redacted shows the redacted description.
    static func screen(_ tool: ToolDescriptor, named name: String, _ guardrails: GuardrailPipeline?) -> Result<ToolDescriptor, Refusal> {
        guard let guardrails else { return .success(tool) }
        let whole = guardrails.check(tool.description + "\n" + JSONWriter.compact(tool.inputSchema), stage: .toolResult)
        if whole.action == .blocked {
            return .failure(Refusal(message: "\(name): left out, its description was blocked (\(whole.reason ?? "guardrail"))"))
        }
        var shown = tool
        let description = guardrails.check(tool.description, stage: .toolResult)
        if description.action == .redacted { shown.description = description.text }
        return .success(shown)
    }

    static func builtIns(policy: BrokerPolicy, environment: ToolEnvironment, unavailable: inout [String]) -> [any BrokerTool] {
        let wanted = Set(ToolRule.builtIn.filter { name in policy.tools.contains { $0.covers(name) } })
        var tools: [any BrokerTool] = []
        if !wanted.isDisjoint(with: ["fs.read", "fs.write", "fs.list"]) {
            if let path = environment.workspace {
                do {
                    let root = try WorkspaceRoot(hostPath: path, mountPath: environment.workspaceMount)
                    tools += [FileReadTool(workspace: root), FileWriteTool(workspace: root), FileListTool(workspace: root)]
                } catch {
                    unavailable.append("fs.*: cannot open the workspace \(path): \(error)")
                }
            } else {
                unavailable.append("fs.*: the run has no host workspace")
            }
        }
        if wanted.contains("code.exec") {
            let path = environment.strictPolicyPath ?? PolicyDirectory.locate() + "/strict.json"
            do { tools.append(CodeExecTool(policy: try Policy.load(path: path))) } catch {
                unavailable.append("code.exec: cannot load \(path): \(error)")
            }
        }
        if wanted.contains("http.fetch") { tools.append(HTTPFetchTool()) }
        return tools
    }
}
