import Specs
import Testing
@testable import Guardrails

/// Decoding `broker.guardrails`: every field, defaults, and precise errors.
@Suite struct SettingsTests {
    @Test func defaults() {
        let settings = GuardrailSettings()
        #expect(settings.mode == .enforce && settings.failure == .closed)
        #expect(settings.secrets.action == .redact && settings.pii.action == .flag && settings.injection.action == .flag)
        #expect(settings.injection.stages == ["input", "tool_result"] && settings.secrets.stages == GuardrailSettings.allStages)
        #expect(settings.maxBytes == 4 << 20 && settings.denyPatterns.isEmpty)
    }

    @Test func readsEveryField() throws {
        let settings = try Fixtures.read("""
        {"mode": "shadow", "failure": "open",
         "secrets": {"action": "block", "entropy": 4.25, "stages": ["output"]},
         "pii": {"enabled": false, "kinds": ["email", "iban"]},
         "injection": {"action": "block", "threshold": 6},
         "denylist": {"action": "redact", "patterns": [{"name": "host", "pattern": "corp\\\\.internal"}]},
         "size": {"maxBytes": "64KiB"}}
        """)
        #expect(settings.mode == .shadow && settings.failure == .open)
        #expect(settings.secrets.action == .block && settings.secretsEntropy == 4.25 && settings.secrets.stages == ["output"])
        #expect(!settings.pii.enabled && settings.piiKinds == ["email", "iban"])
        #expect(settings.injection.action == .block && settings.injectionThreshold == 6)
        #expect(settings.denylist.action == .redact && settings.denyPatterns.map(\.pattern) == ["corp\\.internal"])
        #expect(settings.maxBytes == 64 << 10)
        #expect(try GuardrailPipeline(settings: settings).check("db.corp.internal", stage: .modelInput).verdict == "modify")
    }

    static let errors: [(String, String, Int)] = [
        ("{\"mode\": \"enforced\"}", "unknown value \"enforced\"", 1),
        ("{\"secret\": {}}", "did you mean \"secrets\"", 1),
        ("{\"secrets\": {\"acton\": \"block\"}}", "did you mean \"action\"", 1),
        ("{\"secrets\": {\"action\": \"drop\"}}", "allowed: block, redact, flag", 1),
        ("{\"secrets\": {\"entropy\": 9}}", "between 0 and 8", 1),
        ("{\"secrets\": {\"enabled\": \"yes\"}}", "expected true or false", 1),
        ("{\"pii\": {\"kinds\": [\"passport\"]}}", "unknown PII kind", 1),
        ("{\"pii\": {\"stages\": [\"input\", \"network\"]}}", "unknown stage \"network\"", 1),
        ("{\"injection\": {\"threshold\": 0}}", "out of range", 1),
        ("{\"denylist\": {\"patterns\": [{\"name\": \"x\"}]}}", "missing required key \"pattern\"", 1),
        ("{\"denylist\": {\"patterns\": [{\"name\": \"a b\", \"pattern\": \"x\"}]}}", "letters, digits", 1),
        ("{\"denylist\": {\"patterns\": [{\"name\": \"a\", \"pattern\": \"x\"},\n {\"name\": \"a\", \"pattern\": \"y\"}]}}", "duplicate", 2),
        ("{\"denylist\": {\"patterns\": \"x\"}}", "expected an array", 1),
        ("{\"size\": {\"maxBytes\": \"lots\"}}", "is not a size", 1),
        ("[]", "expected an object", 1),
    ]

    @Test(arguments: errors)
    func rejects(_ json: String, _ message: String, _ line: Int) {
        do {
            _ = try Fixtures.read(json)
            Issue.record("accepted \(json)")
        } catch let error as SpecError {
            #expect(error.message.contains(message), "\(error)")
            #expect(error.file == "policy.json" && error.line == line, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
