/// A policy's `broker.guardrails` section: which detectors run at which stage, with which action.
/// (Placeholder shape from the contract; the guardrails work fills in the fields and `read`.)
public struct GuardrailSettings: Sendable {
    public init() {}
}
