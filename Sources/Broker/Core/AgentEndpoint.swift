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

    public init(runID: String, token: String, policy: BrokerPolicy, workspace: String?,
                trace: TraceRecorder?) throws(SpecError) {
        self.runID = runID; self.token = token; self.policy = policy; self.workspace = workspace; self.trace = trace
        guardrails = try GuardrailPipeline(settings: policy.guardrails)
        admission = Admission(policy: policy)
    }
}

/// Admission control for one run: requests and tokens per minute, token budget, concurrency.
/// Tokens are reserved at admission from an estimate and settled with real usage, so concurrent
/// calls cannot overshoot.
public final class Admission: Sendable {
    /// What an admitted call holds until it is settled.
    public struct Ticket: Sendable {
        public let reservedTokens: Int
    }
    public enum Kind: Sendable { case model, tool }

    let policy: BrokerPolicy
    init(policy: BrokerPolicy) { self.policy = policy }

    /// Admits one call or throws `.rateLimited`, `.tooManyConcurrent` or `.budgetExhausted`.
    public func admit(_ kind: Kind, estimatedTokens: Int = 0) throws(BrokerError) -> Ticket {
        Ticket(reservedTokens: estimatedTokens)  // CONTRACT: the broker-core work implements the limits
    }

    /// Ends a call: releases its concurrency slot and replaces the reservation by `usedTokens`.
    public func settle(_ ticket: Ticket, usedTokens: Int) {}  // CONTRACT
}
