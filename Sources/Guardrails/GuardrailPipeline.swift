import Specs

// CONTRACT (written by the lead so the broker can compile against it; the guardrails work replaces
// the bodies marked CONTRACT with the real pipeline and keeps these signatures).

/// Where in a broker call a text is checked.
public enum GuardrailStage: String, Sendable, CaseIterable {
    /// Every message sent to a model (tool results included: injections arrive there).
    case modelInput = "input"
    /// What a model generates (streamed or not).
    case modelOutput = "output"
    /// A tool call's arguments, before the tool runs.
    case toolArguments = "tool_call"
    /// What a tool returns, before the agent sees it.
    case toolResult = "tool_result"
}

/// One match of one detector rule.
public struct Finding: Sendable, Equatable {
    /// The detector: `secrets`, `pii`, `injection`, `denylist`, `size`.
    public var detector: String
    /// The rule within it, also the redaction placeholder's type: `aws_access_key` -> `[REDACTED:aws_access_key]`.
    public var rule: String
    /// UTF-8 byte offsets in the scanned text.
    public var range: Range<Int>

    public init(detector: String, rule: String, range: Range<Int>) {
        self.detector = detector; self.rule = rule; self.range = range
    }
}

/// What the pipeline concluded about a text (the verdict) and what it enforced (the action);
/// they differ in shadow mode, where a verdict is recorded but never enforced.
public struct GuardrailVerdict: Sendable {
    public enum Action: String, Sendable {
        case passed, blocked, redacted, flagged
    }
    /// Every finding, in text order.
    public var findings: [Finding]
    /// `allow`, `deny` (block), `modify` (redact) or `warn` (flag): the strongest rule that matched.
    public var verdict: String
    /// What the broker must do.
    public var action: Action
    /// The text to pass on: redacted when `action == .redacted`, else the input unchanged.
    public var text: String
    /// For a block: a short reason naming the detector and rule, safe to show the agent (no secret in it).
    public var reason: String?

    public init(findings: [Finding], verdict: String, action: Action, text: String, reason: String? = nil) {
        self.findings = findings; self.verdict = verdict; self.action = action; self.text = text; self.reason = reason
    }
}

/// The detectors a policy turns on, run in order over each text.
public final class GuardrailPipeline: Sendable {
    public let settings: GuardrailSettings
    /// The enabled detectors with their settings, in run order.
    let entries: [DetectorRegistry.Entry]

    /// Builds the pipeline (compiles deny-list patterns); errors name the policy value at fault.
    public init(settings: GuardrailSettings) throws(SpecError) {
        self.settings = settings
        entries = try DetectorRegistry.entries(for: settings)
    }

    /// A pipeline with extra detectors appended (custom rules, tests of fault handling).
    public init(settings: GuardrailSettings, extra: [(any Detector, GuardrailSettings.Detector)]) throws(SpecError) {
        self.settings = settings
        entries = try DetectorRegistry.entries(for: settings) + extra.map { DetectorRegistry.Entry(detector: $0.0, settings: $0.1) }
    }

    /// Checks a whole text at `stage`.
    public func check(_ text: String, stage: GuardrailStage) -> GuardrailVerdict {
        let active = entries.filter { $0.settings.stages.contains(stage.rawValue) }
        guard !active.isEmpty else { return GuardrailVerdict(findings: [], verdict: "allow", action: .passed, text: text) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            let scan = PipelineScan.run(active, UnsafeBufferPointer(buffer), from: 0, final: true)
            return decide(scan, text: text, bytes: UnsafeBufferPointer(buffer), range: 0..<buffer.count)
        }
    }

    /// A checker for streamed output that holds back as many bytes as the longest possible match.
    public func stream(stage: GuardrailStage) -> GuardrailStream { GuardrailStream(pipeline: self, stage: stage) }
}

/// Streamed checking: feed text as it is generated; release only what can no longer change.
///
/// Each detector says how much of the tail to hold back (`Detector.holdFrom`): secrets hold from
/// the first keyword whose token still runs to the end (at least the last 32 bytes), and from an
/// unterminated `-----BEGIN ... PRIVATE KEY-----` for up to 8 KiB (`SecretsDetector.privateKeyCap`);
/// PII holds the last 64 bytes plus the trailing run of non-space bytes, up to 320; injection holds
/// 256 bytes; deny lists hold exactly from the earliest match still in progress in the engine, up to
/// `LinearRegex.maxMatchBytes` (4096) for unbounded patterns. Findings inside the released part are
/// redacted there; a block ends the stream (every later call answers `.blocked` again). The size
/// limit counts the whole stream. The injection score is summed per hold-back window, not over the
/// whole stream. `finish()` always returns the verdict over the whole stream.
public struct GuardrailStream: Sendable {
    public enum Step: Sendable {
        /// Text now safe to send (possibly redacted; possibly empty while held back).
        case release(String, GuardrailVerdict?)
        /// Stop the stream: the verdict blocks.
        case blocked(GuardrailVerdict)
    }
    let pipeline: GuardrailPipeline
    let stage: GuardrailStage
    var state = StreamState()

    /// Adds generated text; returns what may be sent now.
    public mutating func feed(_ text: String) -> Step { advance(text, final: false) }
    /// Ends the stream; returns the held-back rest and the verdict over the whole stream.
    public mutating func finish() -> Step { advance("", final: true) }
}
