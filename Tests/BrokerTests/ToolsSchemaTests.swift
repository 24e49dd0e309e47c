import Testing
@testable import Specs
import TestSupport

/// The argument-schema subset and its linear-time patterns.
@Suite struct ToolsSchemaTests {
    static let schema = ArgumentSchema.parse(#"""
    {"type": "object", "additionalProperties": false, "required": ["path"],
     "properties": {"path": {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z]+(\\.txt)?$"},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10},
                    "mode": {"enum": ["r", "w"]},
                    "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "const": "x"}},
                    "ratio": {"type": ["number", "null"]}}}
    """#)

    /// (arguments JSON, the violation's start, or nil when valid)
    static let cases: [(String, String?)] = [
        (#"{"path": "abc"}"#, nil),
        (#"{"path": "abc.txt", "count": 3, "mode": "r", "tags": ["x"], "ratio": null}"#, nil),
        (#"{"path": "abc", "count": 2.0}"#, nil),
        (#"{}"#, "$: missing required property \"path\""),
        (#"{"path": ""}"#, "$.path: must be at least 1"),
        (#"{"path": "abcdefghi"}"#, "$.path: must be at most 8"),
        (#"{"path": "ABC"}"#, "$.path: does not match"),
        (#"{"path": "a.md"}"#, "$.path: does not match"),
        (#"{"path": 3}"#, "$.path: expected string, found a number"),
        (#"{"path": "a", "count": 0}"#, "$.count: must be at least 1"),
        (#"{"path": "a", "count": 11}"#, "$.count: must be at most 10"),
        (#"{"path": "a", "count": 1.5}"#, "$.count: expected integer"),
        (#"{"path": "a", "mode": "x"}"#, "$.mode: must be one of \"r\", \"w\""),
        (#"{"path": "a", "tags": ["x", "x", "x"]}"#, "$.tags: must have at most 2"),
        (#"{"path": "a", "tags": ["y"]}"#, "$.tags[0]: must be \"x\""),
        (#"{"path": "a", "ratio": "1"}"#, "$.ratio: expected number or null"),
        (#"{"path": "a", "extra": 1}"#, "$: unexpected property \"extra\""),
        (#"[1]"#, "$: expected object, found an array"),
    ]

    @Test(arguments: cases) func argumentsAreValidated(_ text: String, _ expected: String?) throws {
        let schema = try #require(Self.schema)
        let problem = schema.violation(of: try JSONParser.parse(text))
        if let expected {
            #expect(problem?.hasPrefix(expected) == true, "\(problem ?? "no violation")")
        } else {
            #expect(problem == nil)
        }
    }

    /// (pattern, text, found)
    static let patterns: [(String, String, Bool)] = [
        ("abc", "xxabcxx", true), ("^abc$", "xabc", false), ("^a|b$", "xxb", true), ("colou?r", "color", true),
        ("^[0-9]{3}-[0-9]{4}$", "555-1234", true), ("^[0-9]{3}-[0-9]{4}$", "555-123", false),
        ("^\\d+(\\.\\d{1,2})?$", "12.50", true), ("^\\d+(\\.\\d{1,2})?$", "12.505", false),
        ("^[^/]+$", "a/b", false), ("^[^/]+$", "ab", true), ("^\\w+@\\w+\\.com$", "me@ex.com", true),
        ("^(?:ab)+$", "ababab", true), ("^(?:ab)+$", "ababa", false), ("a.c", "a\nc", false),
        ("^\\s*$", " \t ", true), ("[\\-.]", "-", true), ("^é+$", "éé", true), ("x{2,}", "axxx", true),
        ("^a{0}b", "b", true), ("^$", "", true), ("[a-c]+z", "ccz", true),
    ]

    @Test(arguments: patterns) func patternsSearch(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try LinearPattern(pattern).search(text) == expected)
    }

    /// The classic catastrophic-backtracking patterns stay linear: 20,000 characters that almost
    /// match, which a backtracking engine would take longer than the universe's age on.
    @Test func hostilePatternsStayLinear() throws {
        let text = String(repeating: "a", count: 20_000) + "!"
        for pattern in ["^(a+)+$", "^(a|a)*$", "^(a|aa)+$", "^(a*)*b$", "(x+x+)+y"] {
            #expect(try LinearPattern(pattern).search(text) == false, "\(pattern)")
        }
        #expect(throws: LinearPattern.SyntaxError.self) { try LinearPattern("((a{1000}){1000})") }
    }

    /// Random patterns from regex metacharacters either compile or throw (never crash), and a
    /// compiled one answers on random text; its answer on a literal-only pattern matches `contains`.
    @Test func randomPatternsNeverCrash() throws {
        var random = SeededGenerator(seed: 0xFA77_E125)
        let alphabet = Array("ab()[]{}|*+?.^$\\-,0123dws:=!<>".unicodeScalars)
        var compiled = 0
        for _ in 0..<3000 {
            let pattern = String(String.UnicodeScalarView((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
            guard let linear = try? LinearPattern(pattern) else { continue }
            compiled += 1
            let text = String((0..<Int(random.next() % 40)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            _ = linear.search(text)
        }
        #expect(compiled > 500)
        for _ in 0..<500 {
            let needle = String((0..<Int(1 + random.next() % 4)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            let text = String((0..<Int(random.next() % 20)).map { _ in random.next() % 2 == 0 ? "a" : "b" })
            #expect(try LinearPattern(needle).search(text) == text.contains(needle), "\(needle) in \(text)")
        }
    }

    @Test func builtInSchemasCompile() {
        #expect(Self.schema != nil)
    }
}
