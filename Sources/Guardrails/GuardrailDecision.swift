import Specs

/// Turning findings into a verdict and an action, honouring shadow mode and the failure policy.
extension GuardrailPipeline {
    /// The verdict for `bytes[range]` given its scan; `text` is that range as a string.
    func decide(_ scan: PipelineScan, text: String, bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> GuardrailVerdict {
        if let (detector, error) = scan.fault { return faultVerdict(detector: detector, error: error, text: text) }
        let findings = scan.findings.map(\.0)
        guard let strongest = scan.findings.map(\.1).max(by: { $0.strength < $1.strength }) else {
            return GuardrailVerdict(findings: [], verdict: "allow", action: .passed, text: text)
        }
        let verdict = strongest.verdictName
        guard settings.mode == .enforce else {
            return GuardrailVerdict(findings: findings, verdict: verdict, action: .passed, text: text, reason: Self.reason(scan, strongest))
        }
        switch strongest {
        case .block:
            return GuardrailVerdict(findings: findings, verdict: verdict, action: .blocked, text: text, reason: Self.reason(scan, .block))
        case .redact:
            let redacted = Self.redact(bytes, range: range, scan.findings.filter { $0.1 == .redact }.map(\.0))
            return GuardrailVerdict(findings: findings, verdict: verdict, action: .redacted, text: redacted, reason: Self.reason(scan, .redact))
        case .flag:
            return GuardrailVerdict(findings: findings, verdict: verdict, action: .flagged, text: text, reason: Self.reason(scan, .flag))
        }
    }

    /// A detector failed: fail closed blocks, fail open passes; both say why (shadow never blocks).
    func faultVerdict(detector: String, error: GuardrailError, text: String) -> GuardrailVerdict {
        let finding = Finding(detector: detector, rule: "fault", range: 0..<0)
        let reason = "guardrail \(detector) failed: \(error.message)"
        let closed = settings.failure == .closed
        let action: GuardrailVerdict.Action = closed && settings.mode == .enforce ? .blocked : .passed
        return GuardrailVerdict(findings: [finding], verdict: closed ? "deny" : "allow", action: action, text: text, reason: reason)
    }

    /// `detector/rule` of the first finding with `action`, e.g. "blocked by guardrail secrets/github_token".
    static func reason(_ scan: PipelineScan, _ action: GuardrailSettings.Action) -> String {
        let first = scan.findings.first { $0.1 == action }?.0
        let name = first.map { "\($0.detector)/\($0.rule)" } ?? "unknown"
        switch action {
        case .block: return "blocked by guardrail \(name)"
        case .redact: return "redacted by guardrail \(name)"
        case .flag: return "flagged by guardrail \(name)"
        }
    }

    /// `bytes[range]` with each finding (offsets in `bytes`) replaced by `[REDACTED:<rule>]`;
    /// overlapping findings collapse into the first one's placeholder.
    static func redact(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, _ findings: [Finding]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        var cursor = range.lowerBound
        for finding in findings.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            let lower = max(finding.range.lowerBound, range.lowerBound), upper = min(finding.range.upperBound, range.upperBound)
            guard upper > cursor, lower < upper else { continue }
            if lower > cursor { output.append(contentsOf: bytes[cursor..<lower]) }
            if lower >= cursor { output.append(contentsOf: Array("[REDACTED:\(finding.rule)]".utf8)) }
            cursor = upper
        }
        if cursor < range.upperBound { output.append(contentsOf: bytes[cursor..<range.upperBound]) }
        return String(decoding: output, as: UTF8.self)
    }
}
