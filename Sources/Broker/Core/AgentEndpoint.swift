import Guardrails
import Specs
import TraceStore

// CONTRACT (lead): the per-run state every surface (OpenAI, MCP) shares. The broker-core work owns
// this file and Admission; the tools/MCP work uses it through these members only.

/// One running agent's broker endpoint: its policy, token, workspace, guardrails, limits and trace.
public final class AgentEndpoint: Sendable {
    /// The run this endpoint serves (the trace's run id).
    public let runID: String
    /// The bearer token the agent must present (`OPENAI_API_KEY`).
    public let token: String
    /// The effective broker policy (the policy's, narrowed by the spec).
    public let policy: BrokerPolicy
    /// The run's workspace on the host (fs.* tools resolve beneath it), if it has one.
    public let workspace: String?
    public let guardrails: GuardrailPipeline
    /// Rate limits, token budget and concurrency for this run.
    public let admission: Admission
    /// Where broker calls are recorded (nil: not traced).
    public let trace: TraceRecorder?
    /// Whether model requests queue fairly per OpenAI `user` field (`warden serve-model`, where callers
    /// are trusted to name themselves) instead of as one agent (a sandboxed run must not be able to
    /// split itself into many fair-share identities).
    public let fairnessByUser: Bool
    /// Whether callers must present `token` (false only where the transport already decides who may
    /// call: the supervisor's unix socket, mode 0660).
    public let checksToken: Bool

    public init(runID: String, token: String, policy: BrokerPolicy, workspace: String?,
                trace: TraceRecorder?, fairnessByUser: Bool = false, checksToken: Bool = true) throws(SpecError) {
        self.runID = runID; self.token = token; self.policy = policy; self.workspace = workspace; self.trace = trace
        self.fairnessByUser = fairnessByUser
        self.checksToken = checksToken
        guardrails = try GuardrailPipeline(settings: policy.guardrails)
        admission = Admission(policy: policy)
    }
}
