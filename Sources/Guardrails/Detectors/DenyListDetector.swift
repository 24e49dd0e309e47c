import Specs

/// Policy-supplied patterns, run by the linear-time engine; each pattern's name is its rule.
public struct DenyListDetector: Detector {
    public let name = "denylist"
    let patterns: [(name: String, regex: LinearRegex)]
    public let maxMatchBytes: Int

    /// Compiles every pattern; an error is located at the pattern in the policy file.
    public init(_ patterns: [GuardrailSettings.DenyPattern]) throws(SpecError) {
        var compiled: [(name: String, regex: LinearRegex)] = []
        for pattern in patterns {
            do { compiled.append((pattern.name, try LinearRegex(pattern.pattern))) } catch {
                throw pattern.source.error("deny-list pattern \"\(pattern.name)\": \(error)")
            }
        }
        self.patterns = compiled
        maxMatchBytes = compiled.map(\.regex.maxLength).max() ?? 0
    }

    public func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding] {
        var findings: [Finding] = []
        for pattern in patterns {
            for range in pattern.regex.matches(in: text, from: from, final: final).ranges {
                findings.append(Finding(detector: name, rule: pattern.name, range: range))
            }
        }
        return GuardrailFindings.sortedDisjoint(findings)
    }

    /// The earliest start of a match still in progress, from the engine itself.
    public func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hold = text.count
        let from = max(0, text.count - maxMatchBytes - 1)
        for pattern in patterns {
            let result = pattern.regex.matches(in: text, from: from, final: false)
            if let pending = result.pendingFrom { hold = min(hold, pending) }
            if let last = result.ranges.last, last.upperBound >= text.count { hold = min(hold, last.lowerBound) }
        }
        return hold
    }
}

/// The size limit: a text over `maxBytes` is one finding covering the excess.
public struct SizeDetector: Detector {
    public let name = "size"
    public let maxMatchBytes = 0
    public let maxBytes: Int

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding] {
        text.count > maxBytes ? [Finding(detector: name, rule: "max_bytes", range: max(from, maxBytes)..<text.count)] : []
    }

    public func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int { text.count }
}
