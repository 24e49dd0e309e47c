import Specs

/// The one place that knows every detector: builds them from a policy's settings.
public enum DetectorRegistry {
    /// A detector and its switch, action and stages.
    public struct Entry: Sendable {
        public let detector: any Detector
        public let settings: GuardrailSettings.Detector
    }

    /// The names of the built-in detectors, in run order.
    public static let names = ["size", "secrets", "pii", "injection", "denylist"]

    /// The enabled detectors for `settings`; deny-list compile errors point into the policy.
    public static func entries(for settings: GuardrailSettings) throws(SpecError) -> [Entry] {
        var entries: [Entry] = []
        if settings.size.enabled { entries.append(Entry(detector: SizeDetector(maxBytes: settings.maxBytes), settings: settings.size)) }
        if settings.secrets.enabled {
            entries.append(Entry(detector: SecretsDetector(entropyThreshold: settings.secretsEntropy), settings: settings.secrets))
        }
        if settings.pii.enabled, !settings.piiKinds.isEmpty {
            entries.append(Entry(detector: PIIDetector(kinds: settings.piiKinds), settings: settings.pii))
        }
        if settings.injection.enabled {
            entries.append(Entry(detector: InjectionDetector(threshold: settings.injectionThreshold), settings: settings.injection))
        }
        if settings.denylist.enabled, !settings.denyPatterns.isEmpty {
            entries.append(Entry(detector: try DenyListDetector(settings.denyPatterns), settings: settings.denylist))
        }
        return entries
    }
}

/// The findings of one pass of several detectors, each tagged with its detector's action.
struct PipelineScan {
    var findings: [(Finding, GuardrailSettings.Action)] = []
    /// A detector that failed: its name and error.
    var fault: (String, GuardrailError)?

    static func run(_ entries: [DetectorRegistry.Entry], _ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) -> PipelineScan {
        var scan = PipelineScan()
        for entry in entries {
            do {
                for finding in try entry.detector.scan(text, from: from, final: final) {
                    scan.findings.append((finding, entry.settings.action))
                }
            } catch {
                scan.fault = (entry.detector.name, error)
                return scan
            }
        }
        scan.findings.sort { $0.0.range.lowerBound < $1.0.range.lowerBound }
        return scan
    }
}

extension GuardrailSettings.Action {
    var strength: Int {
        switch self {
        case .flag: return 1
        case .redact: return 2
        case .block: return 3
        }
    }
    var verdictName: String {
        switch self {
        case .flag: return "warn"
        case .redact: return "modify"
        case .block: return "deny"
        }
    }
}
