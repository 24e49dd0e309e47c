import Specs

/// What a stream keeps between feeds.
struct StreamState: Sendable {
    /// Received, not yet released.
    var pending: [UInt8] = []
    /// The last released bytes (unredacted), context for boundaries and context words.
    var context: [UInt8] = []
    /// Bytes received so far (the size limit counts the whole stream).
    var total = 0
    /// Every finding so far, at whole-stream byte offsets.
    var findings: [Finding] = []
    var strongest: GuardrailSettings.Action?
    var firstReason: String?
    /// Stream offset of `pending[0]`.
    var offset = 0
    var blocked: GuardrailVerdict?
    var finished = false

    static let contextBytes = 64
}

extension GuardrailStream {
    var active: [DetectorRegistry.Entry] {
        pipeline.entries.filter { $0.settings.stages.contains(stage.rawValue) && !($0.detector is SizeDetector) }
    }

    mutating func advance(_ text: String, final: Bool) -> Step {
        if let blocked = state.blocked { return .blocked(blocked) }
        if state.finished { return .release("", nil) }
        state.pending.append(contentsOf: text.utf8)
        state.total += text.utf8.count
        if let step = sizeCheck() { return step }
        let buffer = state.context + state.pending
        let from = state.context.count
        let step = buffer.withUnsafeBufferPointer { window in
            release(window, from: from, final: final)
        }
        if final, case .release(let rest, _) = step {
            state.finished = true
            return .release(rest, summary())
        }
        return step
    }

    /// The size limit over the whole stream; past it the stream ends according to the action.
    mutating func sizeCheck() -> Step? {
        let settings = pipeline.settings
        guard settings.size.enabled, settings.size.stages.contains(stage.rawValue), state.total > settings.maxBytes else { return nil }
        let finding = Finding(detector: "size", rule: "max_bytes", range: settings.maxBytes..<state.total)
        guard settings.mode == .enforce, settings.size.action == .block else {
            if !state.findings.contains(finding) { record([finding], action: settings.size.action, reason: "size/max_bytes") }
            return nil
        }
        record([finding], action: .block, reason: "size/max_bytes")
        return block()
    }

    mutating func release(_ window: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) -> Step {
        let scan = PipelineScan.run(active, window, from: from, final: final)
        if let (detector, error) = scan.fault {
            let verdict = pipeline.faultVerdict(detector: detector, error: error, text: "")
            if verdict.action == .blocked { state.blocked = verdict; return .blocked(verdict) }
        }
        var cut = window.count
        if !final {
            for entry in active { cut = min(cut, entry.detector.holdFrom(window)) }
            for (finding, _) in scan.findings where finding.range.upperBound > cut { cut = min(cut, finding.range.lowerBound) }
            cut = max(cut, from)
            while cut > from, cut < window.count, window[cut] & 0xC0 == 0x80 { cut -= 1 }
        }
        let settled = scan.findings.filter { $0.0.range.lowerBound >= from && $0.0.range.upperBound <= cut }
        let shift = state.offset - from
        if !settled.isEmpty {
            var local = PipelineScan(); local.findings = settled
            let strongest = settled.map(\.1).max(by: { $0.strength < $1.strength }) ?? .flag
            for action in [GuardrailSettings.Action.block, .redact, .flag] where settled.contains(where: { $0.1 == action }) {
                record(settled.filter { $0.1 == action }.map { shifted($0.0, by: shift) }, action: action,
                       reason: GuardrailPipeline.reason(local, action).split(separator: " ").last.map(String.init) ?? "")
            }
            if strongest == .block, pipeline.settings.mode == .enforce { return block() }
        }
        let enforceRedaction = pipeline.settings.mode == .enforce
        let redactions = enforceRedaction ? settled.filter { $0.1 == .redact }.map(\.0) : []
        let released = GuardrailPipeline.redact(window, range: from..<cut, redactions)
        let raw = Array(window[from..<cut])
        state.context = Array((state.context + raw).suffix(StreamState.contextBytes))
        state.pending = Array(window[cut...])
        state.offset += cut - from
        let stepVerdict = settled.isEmpty ? nil : stepVerdict(settled.map { shifted($0.0, by: shift) }, text: released)
        return .release(released, stepVerdict)
    }

    func shifted(_ finding: Finding, by shift: Int) -> Finding {
        var moved = finding
        moved.range = (finding.range.lowerBound + shift)..<(finding.range.upperBound + shift)
        return moved
    }

    mutating func record(_ findings: [Finding], action: GuardrailSettings.Action, reason: String) {
        state.findings.append(contentsOf: findings)
        if state.strongest.map({ $0.strength < action.strength }) ?? true {
            state.strongest = action
            state.firstReason = reason
        }
    }

    mutating func block() -> Step {
        let verdict = GuardrailVerdict(findings: state.findings, verdict: "deny", action: .blocked, text: "",
                                       reason: "blocked by guardrail \(state.firstReason ?? "unknown")")
        state.blocked = verdict
        return .blocked(verdict)
    }

    func stepVerdict(_ findings: [Finding], text: String) -> GuardrailVerdict {
        summary(findings: findings, text: text)
    }

    /// The verdict over everything seen (at `finish`).
    func summary(findings: [Finding]? = nil, text: String = "") -> GuardrailVerdict {
        let all = findings ?? state.findings
        guard let strongest = state.strongest, !all.isEmpty else {
            return GuardrailVerdict(findings: [], verdict: "allow", action: .passed, text: text)
        }
        let action: GuardrailVerdict.Action
        if pipeline.settings.mode == .shadow { action = .passed }
        else { action = strongest == .redact ? .redacted : strongest == .flag ? .flagged : .blocked }
        let words: [GuardrailSettings.Action: String] = [.block: "blocked", .redact: "redacted", .flag: "flagged"]
        return GuardrailVerdict(findings: all.sorted { $0.range.lowerBound < $1.range.lowerBound }, verdict: strongest.verdictName,
                                action: action, text: text, reason: "\(words[strongest] ?? "flagged") by guardrail \(state.firstReason ?? "unknown")")
    }
}
