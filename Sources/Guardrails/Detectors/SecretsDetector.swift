/// Credentials, gitleaks-style: a keyword prefilter finds candidate offsets, a hand-written matcher
/// checks the rule's shape there, and an entropy threshold drops placeholder values.
///
/// Rules (names are also redaction types): `aws_access_key`, `aws_secret_key`, `github_token`,
/// `github_pat`, `gitlab_token`, `private_key`, `jwt`, `slack_token`, `slack_webhook`, `openai_key`,
/// `anthropic_key`, `google_api_key`, `stripe_key`, `generic_secret`.
public struct SecretsDetector: Detector {
    public let name = "secrets"
    /// Private key blocks are matched up to this many bytes (a 4096-bit RSA PEM is about 3.3 KiB).
    public static let privateKeyCap = 8192
    /// Token rules are at most this long (a generic assignment: keyword, 32 bytes of name, 150 of value).
    static let tokenCap = 256
    public var maxMatchBytes: Int { Self.privateKeyCap }

    /// Bits per byte a generic assignment's value needs.
    public let entropyThreshold: Double

    enum Rule: Int, CaseIterable {
        case aws, github, githubPAT, gitlab, privateKey, jwt, slack, slackApp, slackWebhook
        case openai, stripe, google, generic
    }

    static let keywords: [(String, Rule)] = [
        ("akia", .aws), ("asia", .aws), ("abia", .aws), ("acca", .aws), ("a3t", .aws),
        ("ghp_", .github), ("gho_", .github), ("ghu_", .github), ("ghs_", .github), ("ghr_", .github),
        ("github_pat_", .githubPAT), ("glpat-", .gitlab), ("-----begin", .privateKey), ("eyj", .jwt),
        ("xoxb-", .slack), ("xoxa-", .slack), ("xoxp-", .slack), ("xoxr-", .slack), ("xoxs-", .slack),
        ("xoxe-", .slack), ("xoxo-", .slack), ("xapp-", .slackApp), ("hooks.slack.com/", .slackWebhook),
        ("sk-", .openai), ("sk_live_", .stripe), ("rk_live_", .stripe), ("sk_test_", .stripe),
        ("rk_test_", .stripe), ("sk_prod_", .stripe), ("aiza", .google),
        ("passw", .generic), ("pwd", .generic), ("secret", .generic), ("token", .generic), ("api_key", .generic),
        ("apikey", .generic), ("api-key", .generic), ("access_key", .generic), ("accesskey", .generic),
        ("auth_key", .generic), ("credential", .generic), ("private_key", .generic),
    ]
    static let automaton = KeywordAutomaton(keywords.map(\.0))

    public init(entropyThreshold: Double = 3.5) { self.entropyThreshold = entropyThreshold }

    public func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding] {
        // Specific token rules win over the generic assignment rule where both match
        // (`GITLAB_TOKEN=glpat-...` is a GitLab token, not a generic secret).
        var specific: [Finding] = [], generic: [Finding] = []
        var specificUntil = from, genericUntil = from
        Self.automaton.scan(text, from: from) { id, start in
            let rule = Self.keywords[id].1
            let isGeneric = rule == .generic
            guard start >= (isGeneric ? genericUntil : specificUntil), let (name, range) = match(rule, text, at: start) else { return }
            let finding = Finding(detector: self.name, rule: name, range: range)
            if isGeneric { generic.append(finding); genericUntil = range.upperBound } else { specific.append(finding); specificUntil = range.upperBound }
        }
        let kept = generic.filter { candidate in !specific.contains { $0.range.overlaps(candidate.range) } }
        return GuardrailFindings.sortedDisjoint(specific + kept)
    }

    /// Holds back from the first keyword whose match may still grow: an unterminated private key
    /// block, a token that runs to the end of the text, an assignment without its line end yet.
    public func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hold = max(0, text.count - 32)
        let scanFrom = max(0, text.count - Self.privateKeyCap)
        Self.automaton.scan(text, from: scanFrom) { id, start in
            guard start < hold else { return }
            switch Self.keywords[id].1 {
            case .privateKey:
                if PrivateKeyRule.isOpen(text, at: start) { hold = start }
            case .generic:
                let lineEnd = Bytes.run(text, from: start, limit: Self.tokenCap) { $0 != 0x0A }
                if lineEnd == text.count { hold = start }
            default:
                let end = Bytes.run(text, from: start, limit: 6144) { Bytes.isWord($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x2F || $0 == 0x2B || $0 == 0x3D }
                if end == text.count { hold = start }
            }
        }
        return hold
    }

    func match(_ rule: Rule, _ text: UnsafeBufferPointer<UInt8>, at start: Int) -> (String, Range<Int>)? {
        switch rule {
        case .aws: return TokenRules.awsAccessKey(text, at: start).map { ("aws_access_key", $0) }
        case .github: return TokenRules.prefixed(text, at: start, prefix: 4, minimum: 36, maximum: 36, TokenRules.alnum).map { ("github_token", $0) }
        case .githubPAT: return TokenRules.prefixed(text, at: start, prefix: 11, minimum: 82, maximum: 82, Bytes.isWord).map { ("github_pat", $0) }
        case .gitlab: return TokenRules.prefixed(text, at: start, prefix: 6, minimum: 20, maximum: 64, TokenRules.token).map { ("gitlab_token", $0) }
        case .privateKey: return PrivateKeyRule.match(text, at: start).map { ("private_key", $0) }
        case .jwt: return TokenRules.jwt(text, at: start).map { ("jwt", $0) }
        case .slack: return TokenRules.slack(text, at: start).map { ("slack_token", $0) }
        case .slackApp: return TokenRules.slackApp(text, at: start).map { ("slack_token", $0) }
        case .slackWebhook: return TokenRules.slackWebhook(text, at: start).map { ("slack_webhook", $0) }
        case .openai: return TokenRules.skKey(text, at: start)
        case .stripe: return TokenRules.prefixed(text, at: start, prefix: 8, minimum: 16, maximum: 99, TokenRules.alnum).map { ("stripe_key", $0) }
        case .google: return TokenRules.google(text, at: start).map { ("google_api_key", $0) }
        case .generic: return AssignmentRule.generic(text, keywordAt: start, entropy: entropyThreshold)
        }
    }
}

/// Helpers over findings shared by the detectors.
enum GuardrailFindings {
    /// Sorted by start; overlapping findings merged into the first (a redaction must cover both).
    static func sortedDisjoint(_ findings: [Finding]) -> [Finding] {
        guard findings.count > 1 else { return findings }
        let sorted = findings.sorted { $0.range.lowerBound < $1.range.lowerBound || ($0.range.lowerBound == $1.range.lowerBound && $0.range.count > $1.range.count) }
        var result: [Finding] = []
        for finding in sorted {
            if var last = result.last, finding.range.lowerBound < last.range.upperBound {
                last.range = last.range.lowerBound..<max(last.range.upperBound, finding.range.upperBound)
                result[result.count - 1] = last
            } else {
                result.append(finding)
            }
        }
        return result
    }
}
