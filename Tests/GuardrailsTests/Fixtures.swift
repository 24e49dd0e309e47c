import Specs
import TestSupport
@testable import Guardrails

/// Deterministic fake credentials and helpers shared by the suites.
enum Fixtures {
    static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let upper27 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// `count` characters from `alphabet`, reproducible from `seed`.
    static func random(_ count: Int, from alphabet: [Character] = alnum, seed: UInt64 = 7) -> String {
        var generator = SeededGenerator(seed: seed)
        return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    static let awsKey = "AKIA" + random(16, from: upper27, seed: 1)
    static let githubToken = "ghp_" + random(36, seed: 2)
    static let githubPAT = "github_pat_" + random(22, seed: 3) + "_" + random(59, seed: 4)
    static let gitlab = "glpat-" + random(20, seed: 5)
    static let slackBot = "xoxb-1234567890123-1234567890123-" + random(24, seed: 6)
    static let openaiProject = "sk-proj-" + random(58, seed: 8) + "T3BlbkFJ" + random(58, seed: 9)
    static let openaiLegacy = "sk-" + random(20, seed: 10) + "T3BlbkFJ" + random(20, seed: 11)
    static let anthropic = "sk-ant-api03-" + random(93, seed: 12) + "AA"
    static let google = "AIza" + random(35, seed: 13)
    static let stripe = "sk_live_" + random(24, seed: 14)
    static let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    static let webhook = "https://hooks.slack.com/services/T00000000/B00000000/" + random(24, seed: 15)
    static let privateKey = "-----BEGIN RSA PRIVATE KEY-----\n" + (0..<6).map { random(64, seed: UInt64(20 + $0)) }.joined(separator: "\n") + "\n-----END RSA PRIVATE KEY-----"

    /// Settings with every detector at every stage and the given actions.
    static func settings(secrets: GuardrailSettings.Action = .redact, pii: GuardrailSettings.Action = .flag,
                         injection: GuardrailSettings.Action = .block, deny: [(String, String)] = []) -> GuardrailSettings {
        var settings = GuardrailSettings()
        settings.secrets.action = secrets
        settings.pii.action = pii
        settings.injection = .init(action: injection)
        settings.denyPatterns = deny.map { GuardrailSettings.DenyPattern(name: $0.0, pattern: $0.1) }
        return settings
    }

    /// Reads a guardrails object from JSON text.
    static func read(_ json: String) throws -> GuardrailSettings {
        let document = try JSONParser.parseDocument(json, file: "policy.json")
        return try GuardrailSettings.read(document.reader)
    }

    static func rules(_ findings: [Finding]) -> [String] { findings.map(\.rule) }
}
