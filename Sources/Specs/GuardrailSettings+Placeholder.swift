// PLACEHOLDER (broker-core): what the policy's `broker.guardrails` decoding needs until the
// guardrails work lands. Delete this file when merging it: its GuardrailSettings.swift declares
// the real `read` (same signature).

extension GuardrailSettings {
    /// Reads a `guardrails` section. (Minimal version written by the broker-core work: only `{}`;
    /// the guardrails work replaces it with the real settings.)
    public static func read(_ reader: JSONReader) throws(SpecError) -> GuardrailSettings {
        do { _ = try reader.object(keys: []) } catch { throw SpecError(error) }
        return GuardrailSettings()
    }
}
