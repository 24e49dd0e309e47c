/// A policy's `broker.guardrails` section: which detectors run at which stage, with which action.
///
/// ```
/// "guardrails": {
///   "mode": "enforce",                  // or "shadow": verdicts recorded, nothing enforced
///   "failure": "closed",                // or "open": a guardrail fault passes the text
///   "secrets":   {"action": "redact", "entropy": 3.5},
///   "pii":       {"action": "flag", "kinds": ["email", "credit_card"]},
///   "injection": {"action": "block", "stages": ["input", "tool_result"], "threshold": 4},
///   "denylist":  {"action": "block", "patterns": [{"name": "internal-host", "pattern": "(?i)\\bcorp\\.internal\\b"}]},
///   "size":      {"action": "block", "maxBytes": "4MiB"}
/// }
/// ```
/// Every detector object also takes `enabled` (bool) and `stages` (a subset of `input`, `output`,
/// `tool_call`, `tool_result`). Defaults (`init()`): enforce, fail closed; secrets redact at every
/// stage; PII flag at every stage (flagging is a trace record, not a change: PII in agent traffic is
/// often legitimate); injection flag on `input` and `tool_result` (where injections arrive; heuristics
/// have false positives, so blocking is a policy's choice); deny lists block (no patterns until a
/// policy lists some); size block above 4 MiB.
public struct GuardrailSettings: Sendable {
    /// `enforce` applies actions; `shadow` records the verdict and passes the text unchanged.
    public enum Mode: String, Sendable, CaseIterable { case enforce, shadow }
    /// What a guardrail fault (e.g. an input the pipeline cannot scan) does: `closed` blocks.
    public enum Failure: String, Sendable, CaseIterable { case closed, open }
    /// What a detector's finding does to the text.
    public enum Action: String, Sendable, CaseIterable { case block, redact, flag }

    /// One detector's switch, action and stages (stage names as in `GuardrailStage` raw values).
    public struct Detector: Sendable, Equatable {
        public var enabled: Bool
        public var action: Action
        public var stages: Set<String>
        public init(enabled: Bool = true, action: Action, stages: Set<String> = GuardrailSettings.allStages) {
            self.enabled = enabled; self.action = action; self.stages = stages
        }
    }

    /// A policy-supplied deny-list regex; `source` locates it for compile errors.
    public struct DenyPattern: Sendable {
        public var name: String
        public var pattern: String
        public var source: SourceRef
        public init(name: String, pattern: String, source: SourceRef = .none) {
            self.name = name; self.pattern = pattern; self.source = source
        }
    }

    /// The stage names a detector may list.
    public static let allStages: Set<String> = ["input", "output", "tool_call", "tool_result"]
    /// The PII kinds the PII detector knows (also its rule names).
    public static let piiKinds = ["email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6"]

    public var mode: Mode = .enforce
    public var failure: Failure = .closed
    public var secrets = Detector(action: .redact)
    /// Shannon entropy (bits per byte) a generic `password = "..."` value needs to count as a secret.
    public var secretsEntropy: Double = 3.5
    public var pii = Detector(action: .flag)
    public var piiKinds: Set<String> = Set(GuardrailSettings.piiKinds)
    public var injection = Detector(action: .flag, stages: ["input", "tool_result"])
    /// The summed rule score at which a text counts as an injection attempt.
    public var injectionThreshold: Int = 4
    public var denylist = Detector(action: .block)
    public var denyPatterns: [DenyPattern] = []
    public var size = Detector(action: .block)
    public var maxBytes: Int = 4 << 20

    /// The defaults described above.
    public init() {}
}

extension GuardrailSettings {
    static let keys = ["mode", "failure", "secrets", "pii", "injection", "denylist", "size"]
    static let commonKeys = ["enabled", "action", "stages"]

    /// Reads a `guardrails` object strictly: unknown keys and wrong types are errors at their position.
    /// Deny-list patterns are compiled later, by `GuardrailPipeline(settings:)`, whose errors point
    /// at the pattern through `DenyPattern.source`.
    public static func read(_ reader: JSONReader) throws(SpecError) -> GuardrailSettings {
        var result = GuardrailSettings()
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        if let mode = object.optional("mode") { result.mode = try mode.guardrailEnum(Mode.self) }
        if let failure = object.optional("failure") { result.failure = try failure.guardrailEnum(Failure.self) }
        if let secrets = object.optional("secrets") {
            let members = try readDetector(secrets, into: &result.secrets, extra: ["entropy"])
            if let entropy = members.optional("entropy") { result.secretsEntropy = try entropy.entropyValue() }
        }
        if let pii = object.optional("pii") {
            let members = try readDetector(pii, into: &result.pii, extra: ["kinds"])
            if let kinds = members.optional("kinds") { result.piiKinds = try readKinds(kinds) }
        }
        if let injection = object.optional("injection") {
            let members = try readDetector(injection, into: &result.injection, extra: ["threshold"])
            if let threshold = members.optional("threshold") {
                do { result.injectionThreshold = Int(try threshold.integer(in: 1...1000)) } catch { throw SpecError(error) }
            }
        }
        if let deny = object.optional("denylist") {
            let members = try readDetector(deny, into: &result.denylist, extra: ["patterns"])
            if let patterns = members.optional("patterns") { result.denyPatterns = try readPatterns(patterns) }
        }
        if let size = object.optional("size") {
            let members = try readDetector(size, into: &result.size, extra: ["maxBytes"])
            if let limit = members.optional("maxBytes") { result.maxBytes = Int(try limit.byteSize(in: 1...(1 << 34))) }
        }
        return result
    }

    /// Reads `enabled`, `action` and `stages` into `detector`; returns the object for the extra keys.
    static func readDetector(_ reader: JSONReader, into detector: inout Detector, extra: [String]) throws(SpecError) -> JSONObjectReader {
        let object: JSONObjectReader
        do {
            object = try reader.object(keys: commonKeys + extra)
            if let enabled = object.optional("enabled") { detector.enabled = try enabled.bool() }
        } catch { throw SpecError(error) }
        if let action = object.optional("action") { detector.action = try action.guardrailEnum(Action.self) }
        if let stages = object.optional("stages") {
            var chosen: Set<String> = []
            let elements: [JSONReader]
            do { elements = try stages.array() } catch { throw SpecError(error) }
            for element in elements {
                let name: String
                do { name = try element.string() } catch { throw SpecError(error) }
                guard allStages.contains(name) else {
                    throw element.specError("unknown stage \"\(name)\" (allowed: input, output, tool_call, tool_result)")
                }
                chosen.insert(name)
            }
            detector.stages = chosen
        }
        return object
    }

    static func readKinds(_ reader: JSONReader) throws(SpecError) -> Set<String> {
        var kinds: Set<String> = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let kind: String
            do { kind = try element.string() } catch { throw SpecError(error) }
            guard piiKinds.contains(kind) else {
                throw element.specError("unknown PII kind \"\(kind)\" (allowed: \(piiKinds.joined(separator: ", ")))")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    static func readPatterns(_ reader: JSONReader) throws(SpecError) -> [DenyPattern] {
        var patterns: [DenyPattern] = []
        var names: Set<String> = []
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        for element in elements {
            let fields: (JSONReader, JSONReader)
            do {
                let entry = try element.object(keys: ["name", "pattern"])
                fields = (try entry.required("name"), try entry.required("pattern"))
            } catch { throw SpecError(error) }
            let name: String, pattern: String
            do { name = try fields.0.string(); pattern = try fields.1.string() } catch { throw SpecError(error) }
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 < 0x80 && ($0 == 0x5F || $0 == 0x2D || $0 == 0x2E || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 >= 0x30 && $0 <= 0x39) }) else {
                throw fields.0.specError("a deny-list name is letters, digits, '_', '-' or '.' (it becomes [REDACTED:<name>])")
            }
            guard names.insert(name).inserted else { throw fields.0.specError("duplicate deny-list name \"\(name)\"") }
            guard !pattern.isEmpty else { throw fields.1.specError("an empty pattern matches everything") }
            patterns.append(DenyPattern(name: name, pattern: pattern, source: SourceRef(fields.1)))
        }
        return patterns
    }
}

extension JSONReader {
    /// A string naming one case of `type`.
    func guardrailEnum<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws(SpecError) -> E where E.RawValue == String {
        let text: String
        do { text = try string() } catch { throw SpecError(error) }
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw specError("unknown value \"\(text)\" (allowed: \(allowed))")
        }
        return value
    }

    /// An entropy threshold in bits per byte: 0 to 8.
    func entropyValue() throws(SpecError) -> Double {
        let number: JSONNumber
        do { number = try self.number() } catch { throw SpecError(error) }
        let value = number.double
        guard value >= 0, value <= 8 else { throw specError("entropy is bits per byte, between 0 and 8; found \(number.literal)") }
        return value
    }
}
