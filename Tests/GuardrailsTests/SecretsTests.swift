import Testing
@testable import Guardrails

/// Every secrets rule: positives (the rule named, the secret covered) and near-miss negatives.
@Suite struct SecretsTests {
    let detector = SecretsDetector()

    static let positives: [(String, String, String)] = [
        // (rule, text, the secret that must be covered)
        ("aws_access_key", "aws_access_key_id = \(Fixtures.awsKey)", Fixtures.awsKey),
        ("aws_access_key", "key: ASIA\(Fixtures.random(16, from: Fixtures.upper27, seed: 40))", "ASIA"),
        ("aws_secret_key", "aws_secret_access_key = \"\(Fixtures.random(40, seed: 41))\"", Fixtures.random(40, seed: 41)),
        ("github_token", "export GH=\(Fixtures.githubToken)", Fixtures.githubToken),
        ("github_token", "token gho_\(Fixtures.random(36, seed: 42)) ok", "gho_"),
        ("github_token", "ghs_\(Fixtures.random(36, seed: 43))", "ghs_"),
        ("github_token", "(ghu_\(Fixtures.random(36, seed: 44)))", "ghu_"),
        ("github_token", "ghr_\(Fixtures.random(36, seed: 45))", "ghr_"),
        ("github_pat", "pat: \(Fixtures.githubPAT)", Fixtures.githubPAT),
        ("gitlab_token", "GITLAB_TOKEN=\(Fixtures.gitlab)", Fixtures.gitlab),
        ("private_key", "key:\n\(Fixtures.privateKey)\nthanks", Fixtures.privateKey),
        ("private_key", Fixtures.privateKey.replacingOccurrences(of: "RSA", with: "OPENSSH"), "OPENSSH PRIVATE KEY"),
        ("private_key", Fixtures.privateKey.replacingOccurrences(of: "RSA ", with: ""), "BEGIN PRIVATE KEY"),
        ("jwt", "Authorization: Bearer \(Fixtures.jwt)", Fixtures.jwt),
        ("slack_token", "SLACK=\(Fixtures.slackBot)", Fixtures.slackBot),
        ("slack_token", "xoxp-1234567890-1234567890-1234567890-\(Fixtures.random(32, seed: 46))", "xoxp-"),
        ("slack_webhook", "post to \(Fixtures.webhook) now", Fixtures.webhook),
        ("openai_key", "OPENAI_API_KEY=\(Fixtures.openaiProject)", Fixtures.openaiProject),
        ("openai_key", "key \(Fixtures.openaiLegacy)", Fixtures.openaiLegacy),
        ("anthropic_key", "ANTHROPIC_API_KEY=\(Fixtures.anthropic)", Fixtures.anthropic),
        ("google_api_key", "maps?key=\(Fixtures.google)&q=x", Fixtures.google),
        ("stripe_key", "stripe.api_key = '\(Fixtures.stripe)'", Fixtures.stripe),
        ("stripe_key", "rk_live_\(Fixtures.random(24, seed: 47))", "rk_live_"),
        ("generic_secret", "DB_PASSWORD=\"Zx8#kP2!qW9vL4m\"", "Zx8#kP2!qW9vL4m"),
        ("generic_secret", "{\"client_secret\": \"a8F3kQ9zL2mX7vB1nC4\"}", "a8F3kQ9zL2mX7vB1nC4"),
        ("generic_secret", "api_key: 9fK2mQ7xL3vB8nZ1cR5t", "9fK2mQ7xL3vB8nZ1cR5t"),
        ("generic_secret", "auth_token := `T9x2Lm4Qp8Zr6Vw3Kc7`", "T9x2Lm4Qp8Zr6Vw3Kc7"),
        ("generic_secret", "db_password: +iwjaClhWlooCWdM", "+iwjaClhWlooCWdM"),
        ("generic_secret", "config.db_password = '%GtM#A_iYO6A1sFLhxiKyg';", "%GtM#A_iYO6A1sFLhxiKyg"),
    ]

    static let negatives: [String] = [
        "AKIAIOSFODNN7EXAMPLE is the documented example key",
        "AKIAAAAAAAAAAAAAAAAA",                                   // no entropy
        "XAKIA\(Fixtures.random(16, from: Fixtures.upper27, seed: 1))",  // mid-word
        "AKIA1234",                                                // too short
        "ghp_short", "ghp_" + String(repeating: "x", count: 36),   // short; placeholder
        "GHP_\(Fixtures.random(36, seed: 2))",                     // wrong case prefix
        "glpat-", "the glpat- prefix marks GitLab tokens",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",  // no body
        "-----BEGIN CERTIFICATE-----\n\(Fixtures.random(64, seed: 30))\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\n\(Fixtures.random(64, seed: 31))\n-----END PUBLIC KEY-----",
        "eyJhbGciOiJIUzI1NiJ9",                                    // a header alone
        "eyJ is how base64 JSON starts",
        "xoxb-your-token-here", "xoxb-12345",
        "hooks.slack.com/services/", "https://hooks.slack.com/services/short",
        "sk-learn is a library", "task-force meeting", "sk-this-is-not-a-real-key-placeholder",
        "sk-ant-", "AIzaShort", "sk_live_", "sk_live_abc",
        "password = \"changeme\"", "password = \"\"", "password: ${DB_PASSWORD}", "token = get_token()",
        "api_key = os.environ[\"API_KEY\"]", "max_tokens = 4096", "num_tokens: 123456789",
        "the token is valid", "password=hunter2", "secret = \"<your secret here>\"",
        "if token == \"abcdef1234567890XYZ\":", "tokenizer = AutoTokenizer.from_pretrained(name)",
        "password: xxxxxxxxxxxxxxxx", "password = '%(db_password)s'", "secret: %APP_SECRET%", "token = settings.auth.token_value", "api_key = \"YOUR_API_KEY_EXAMPLE_123\"",
    ]

    @Test(arguments: positives)
    func positive(_ rule: String, _ text: String, _ secret: String) throws {
        let findings = try detector.scan(text)
        let bytes = Array(text.utf8)
        let hit = findings.first { $0.rule == rule }
        #expect(hit != nil, "\(rule) not found in \(text); found \(Fixtures.rules(findings))")
        if let hit {
            let covered = String(decoding: bytes[hit.range], as: UTF8.self)
            #expect(covered.contains(secret) || secret.contains(covered) && covered.count >= 4, "\(rule) covered \(covered)")
        }
    }

    @Test(arguments: negatives)
    func negative(_ text: String) throws {
        #expect(try detector.scan(text).isEmpty, "false positive in: \(text)")
    }

    @Test func entropyThresholdIsConfigurable() throws {
        let text = "password = \"abcdefgh12\""
        #expect(try SecretsDetector(entropyThreshold: 3.5).scan(text).isEmpty)
        #expect(try SecretsDetector(entropyThreshold: 2.0).scan(text).map(\.rule) == ["generic_secret"])
    }

    @Test func privateKeyWithoutEndIsCoveredToBodyEnd() throws {
        let text = "-----BEGIN EC PRIVATE KEY-----\n" + Fixtures.random(80, seed: 50) + "\n"
        let findings = try detector.scan(text)
        #expect(findings.map(\.rule) == ["private_key"])
        #expect(findings.first?.range.upperBound ?? 0 >= text.utf8.count - 1)
    }

    @Test func severalSecretsInOneText() throws {
        let text = "a=\(Fixtures.githubToken) b=\(Fixtures.awsKey) c=\(Fixtures.stripe)"
        #expect(try detector.scan(text).map(\.rule) == ["github_token", "aws_access_key", "stripe_key"])
    }
}
