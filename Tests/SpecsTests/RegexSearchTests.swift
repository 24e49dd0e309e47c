import Testing
@testable import Specs
import TestSupport

/// `LinearRegex.search`, the JSON Schema `pattern` semantics (any match, not anchored); these cases
/// came with the schema's former engine and hold on the shared one.
@Suite struct RegexSearchTests {
    /// (pattern, text, found)
    static let patterns: [(String, String, Bool)] = [
        ("abc", "xxabcxx", true), ("^abc$", "xabc", false), ("^a|b$", "xxb", true), ("colou?r", "color", true),
        ("^[0-9]{3}-[0-9]{4}$", "555-1234", true), ("^[0-9]{3}-[0-9]{4}$", "555-123", false),
        ("^\\d+(\\.\\d{1,2})?$", "12.50", true), ("^\\d+(\\.\\d{1,2})?$", "12.505", false),
        ("^[^/]+$", "a/b", false), ("^[^/]+$", "ab", true), ("^\\w+@\\w+\\.com$", "me@ex.com", true),
        ("^(?:ab)+$", "ababab", true), ("^(?:ab)+$", "ababa", false), ("a.c", "a\nc", false),
        ("^\\s*$", " \t ", true), ("[\\-.]", "-", true), ("^é+$", "éé", true), ("x{2,}", "axxx", true),
        ("^a{0}b", "b", true), ("^$", "", true), ("[a-c]+z", "ccz", true),
        // Empty matches count: a schema may allow the empty string.
        ("^[a-z]*$", "", true), ("^[a-z]*$", "abc", true), ("^[a-z]*$", "ab1", false), ("", "anything", true),
        ("x*", "", true), ("\\bid\\b", "the id here", true), ("\\bid\\b", "fluid", false),
    ]

    @Test(arguments: patterns) func patternsSearch(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try LinearRegex(pattern).search(text) == expected)
    }

    /// A search is not capped at `maxMatchBytes` (that cap bounds a stream's hold-back): a schema's
    /// `^...$` holds on a long string.
    @Test func searchIsNotCapped() throws {
        let text = String(repeating: "a", count: 3 * LinearRegex.maxMatchBytes)
        #expect(try LinearRegex("^a+$").search(text))
        #expect(try LinearRegex("^a*$").search(text + "b") == false)
    }

    /// The classic catastrophic-backtracking patterns stay linear: 20,000 characters that almost
    /// match, which a backtracking engine would take longer than the universe's age on.
    @Test func hostilePatternsStayLinear() throws {
        let text = String(repeating: "a", count: 20_000) + "!"
        for pattern in ["^(a+)+$", "^(a|a)*$", "^(a|aa)+$", "^(a*)*b$", "(x+x+)+y"] {
            #expect(try LinearRegex(pattern).search(text) == false, "\(pattern)")
        }
        #expect(throws: RegexError.self) { try LinearRegex("((a{1000}){1000})") }
    }

    /// Random patterns from regex metacharacters either compile or throw (never crash or hang), and
    /// a compiled one answers on random text; its answer on a literal-only pattern matches `contains`.
    @Test func randomPatternsNeverCrash() throws {
        var random = SeededGenerator(seed: 0xFA77_E125)
        let alphabet = Array("ab()[]{}|*+?.^$\\-,0123dws:=!<>".unicodeScalars)
        var compiled = 0
        for _ in 0..<3000 {
            let pattern = String(String.UnicodeScalarView((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
            guard let linear = try? LinearRegex(pattern) else { continue }
            compiled += 1
            let text = String((0..<Int(random.next() % 40)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            _ = linear.search(text)
            _ = linear.matches(in: text)
        }
        #expect(compiled > 500)
        for _ in 0..<500 {
            let needle = String((0..<Int(1 + random.next() % 4)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            let text = String((0..<Int(random.next() % 20)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            #expect(try LinearRegex(needle).search(text) == text.contains(needle), "\(needle) in \(text)")
        }
    }
}
