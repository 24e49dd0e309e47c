/// Personal data, Presidio-style (pattern + checksum + context), in one pass over the bytes:
/// `email`, `phone`, `credit_card` (Luhn), `iban` (country length + mod-97), `us_ssn` (area, group and
/// serial exclusions), `ipv4`, `ipv6`. Bare digit runs count as a phone or SSN only with a context
/// word ("phone", "ssn", ...) shortly before, so IDs and timestamps in logs are not flagged.
public struct PIIDetector: Detector {
    public let name = "pii"
    public let maxMatchBytes = 320
    let kinds: Set<String>
    let email: Bool, phone: Bool, card: Bool, iban: Bool, ssn: Bool, ipv4: Bool, ipv6: Bool

    public init(kinds: Set<String> = ["email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6"]) {
        self.kinds = kinds
        email = kinds.contains("email"); phone = kinds.contains("phone"); card = kinds.contains("credit_card")
        iban = kinds.contains("iban"); ssn = kinds.contains("us_ssn"); ipv4 = kinds.contains("ipv4"); ipv6 = kinds.contains("ipv6")
    }

    /// 1: digit, 2: '@', 3: ':', 4: uppercase letter, 5: '+' or '('.
    static let dispatch: [UInt8] = (0..<256).map { byte -> UInt8 in
        let b = UInt8(byte)
        if Bytes.isDigit(b) { return 1 }
        if b == 0x40 { return 2 }
        if b == 0x3A { return 3 }
        if Bytes.isUpper(b) { return 4 }
        if b == 0x2B || b == 0x28 { return 5 }
        return 0
    }

    public func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding] {
        var findings: [Finding] = []
        Self.dispatch.withUnsafeBufferPointer { dispatch in
            var index = from
            let count = text.count
            while index < count {
                let kind = dispatch[Int(text[index])]
                if kind == 0 { index += 1; continue }
                index = examine(kind, text, at: index, into: &findings)
            }
        }
        return GuardrailFindings.sortedDisjoint(findings)
    }

    public func holdFrom(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var start = max(0, text.count - 64)
        let floor = max(0, text.count - maxMatchBytes)
        while start > floor, !Bytes.isSpace(text[start - 1]) { start -= 1 }
        return start
    }

    /// Checks the candidates at `index`; returns where scanning resumes.
    func examine(_ kind: UInt8, _ text: UnsafeBufferPointer<UInt8>, at index: Int, into findings: inout [Finding]) -> Int {
        let before: UInt8 = index > 0 ? text[index - 1] : 0x20
        switch kind {
        case 2:
            if email, let range = PIIRules.email(text, at: index) { findings.append(Finding(detector: name, rule: "email", range: range)); return range.upperBound }
            return index + 1
        case 3:
            if ipv6, let range = PIIRules.ipv6(text, colonAt: index) { findings.append(Finding(detector: name, rule: "ipv6", range: range)); return range.upperBound }
            return index + 1
        case 4:
            if iban, !Bytes.isAlnum(before), let range = PIIRules.iban(text, at: index) {
                findings.append(Finding(detector: name, rule: "iban", range: range)); return range.upperBound
            }
            return index + 1
        case 5:
            if phone, !Bytes.isAlnum(before), let range = PIIRules.phone(text, at: index) {
                findings.append(Finding(detector: name, rule: "phone", range: range)); return range.upperBound
            }
            return index + 1
        default:
            return examineDigits(text, at: index, before: before, into: &findings)
        }
    }

    func examineDigits(_ text: UnsafeBufferPointer<UInt8>, at index: Int, before: UInt8, into findings: inout [Finding]) -> Int {
        let runEnd = Bytes.run(text, from: index, Bytes.isDigit)
        // Only digit runs that begin a number: not inside a word, a decimal or a longer figure.
        guard !Bytes.isAlpha(before), before != 0x2E, before != 0x5F, before != 0x2D || index < 2 || !Bytes.isDigit(text[index - 2]) else {
            return runEnd
        }
        if ipv4, let range = PIIRules.ipv4(text, at: index) { findings.append(Finding(detector: name, rule: "ipv4", range: range)); return range.upperBound }
        if ssn, let range = PIIRules.ssn(text, at: index) { findings.append(Finding(detector: name, rule: "us_ssn", range: range)); return range.upperBound }
        if card, let range = PIIRules.card(text, at: index) { findings.append(Finding(detector: name, rule: "credit_card", range: range)); return range.upperBound }
        if phone, let range = PIIRules.phone(text, at: index) { findings.append(Finding(detector: name, rule: "phone", range: range)); return range.upperBound }
        return runEnd
    }
}
