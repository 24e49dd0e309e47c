/// A policy's `broker.guardrails` section: which detectors run at which stage, with which action.
/// (Placeholder shape from the contract; the guardrails work fills in the fields and `read`.)
public struct GuardrailSettings: Sendable {
    public init() {}
}

extension GuardrailSettings {
    /// Reads a `guardrails` section. (Minimal version written by the broker-core work: only `{}`;
    /// the guardrails work replaces it with the real settings.)
    public static func read(_ reader: JSONReader) throws(SpecError) -> GuardrailSettings {
        do { _ = try reader.object(keys: []) } catch { throw SpecError(error) }
        return GuardrailSettings()
    }
}
