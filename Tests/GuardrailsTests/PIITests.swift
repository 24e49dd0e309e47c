import Testing
@testable import Guardrails

/// Every PII rule: positives with valid checksums, near misses with invalid ones.
@Suite struct PIITests {
    let detector = PIIDetector()

    static let positives: [(String, String, String)] = [
        ("email", "contact jane.doe+work@example.co.uk today", "jane.doe+work@example.co.uk"),
        ("email", "<a href=\"mailto:ops@corp.io\">", "ops@corp.io"),
        ("phone", "call +44 20 7946 0958 now", "+44 20 7946 0958"),
        ("phone", "tel: +1-212-555-0147", "+1-212-555-0147"),
        ("phone", "office (415) 555-0132 ext", "(415) 555-0132"),
        ("phone", "cell 415-555-0132", "415-555-0132"),
        ("phone", "fax 415.555.0132", "415.555.0132"),
        ("phone", "phone: 4155550132", "4155550132"),
        ("phone", "+33 1 42 68 53 00", "+33 1 42 68 53 00"),
        ("phone", "desk 206.269.0743x9150.", "206.269.0743x9150"),
        ("phone", "UK 0118 496 0982", "0118 496 0982"),
        ("phone", "FR 05 45 23 28 60", "05 45 23 28 60"),
        ("phone", "DE (02328) 60129", "(02328) 60129"),
        ("phone", "+49(0)7483378876", "+49(0)7483378876"),
        ("phone", "001-335-504-9258", "001-335-504-9258"),
        ("credit_card", "jcb 180085069506999", "180085069506999"),
        ("credit_card", "card 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
        ("credit_card", "4012-8888-8888-1881", "4012-8888-8888-1881"),
        ("credit_card", "amex 378282246310005.", "378282246310005"),
        ("credit_card", "mc 5555555555554444", "5555555555554444"),
        ("iban", "IBAN GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32"),
        ("iban", "DE89370400440532013000", "DE89370400440532013000"),
        ("iban", "to FR1420041010050500013M02606.", "FR1420041010050500013M02606"),
        ("us_ssn", "SSN 123-45-6788", "123-45-6788"),
        ("us_ssn", "ssn: 078 05 1121", "078 05 1121"),
        ("ipv4", "from 192.168.1.20 port", "192.168.1.20"),
        ("ipv4", "host=10.0.0.1,", "10.0.0.1"),
        ("ipv6", "addr 2001:db8:85a3::8a2e:370:7334 up", "2001:db8:85a3::8a2e:370:7334"),
        ("ipv6", "fe80::1ff:fe23:4567:890a%eth0", "fe80::1ff:fe23:4567:890a"),
        ("ipv6", "2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329"),
    ]

    static let negatives: [String] = [
        "user@localhost", "@decorator", "email me at name@", "a@b.c", "git push origin main@{upstream}",
        "call 555-0132", "0 1 2 3 4 5 6 7 8 9 10", "0123456789", "build 0.12.3450", "Decimal('+35236450.6')", "order 2024-01-15 shipped", "id 12345678901234", "v1.2.3", "pid 4155550132",
        "1234 5678 9012 3456",            // Luhn fails
        "4111 1111 1111 1112",            // Luhn fails
        "4111-1111 1111-1111",            // mixed separators
        "GB82 WEST 1234 5698 7654 33",    // mod-97 fails
        "DE8937040044053201300",          // wrong length
        "XX89370400440532013000",         // unknown country
        "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "123-45-67890",
        "256.1.1.1", "1.2.3.4.5", "10.0.0", "version 1.2.3.4.5 built",
        "std::vector<int>", "a::b", "12:30:45", "00:1a:2b:3c:4d:5e", "x[1::2]", "::1",
    ]

    @Test(arguments: positives)
    func positive(_ rule: String, _ text: String, _ value: String) throws {
        let findings = try detector.scan(text)
        let bytes = Array(text.utf8)
        let covered = findings.filter { $0.rule == rule }.map { String(decoding: bytes[$0.range], as: UTF8.self) }
        #expect(covered == [value], "\(rule) in \(text): \(findings)")
    }

    @Test(arguments: negatives)
    func negative(_ text: String) throws {
        let findings = try detector.scan(text)
        #expect(findings.isEmpty, "false positive in \(text): \(findings)")
    }

    @Test func checksums() {
        #expect(PIIRules.luhn([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(!PIIRules.luhn([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]))
        #expect(PIIRules.luhn([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]))
    }

    @Test func kindsRestrictRules() throws {
        let text = "mail a@corp.io from 10.1.2.3"
        #expect(try PIIDetector(kinds: ["email"]).scan(text).map(\.rule) == ["email"])
        #expect(try PIIDetector(kinds: ["ipv4"]).scan(text).map(\.rule) == ["ipv4"])
    }
}
