import Testing
@testable import Guardrails

/// The deny-list engine: a conformance table (pattern, text, expected matches), hostile patterns on
/// long inputs, and the constructs it rejects.
@Suite struct RegexTests {
    static let conformance: [(String, String, [String])] = [
        ("abc", "xxabcxxabc", ["abc", "abc"]),
        ("a.c", "abc a\nc a€c", ["abc", "a€c"]),
        ("(?s)a.c", "a\nc", ["a\nc"]),
        ("colou?r", "color colour colouur", ["color", "colour"]),
        ("ab*", "a ab abbb", ["a", "ab", "abbb"]),
        ("ab+", "a ab abbb", ["ab", "abbb"]),
        ("ab*?", "abbb", ["a"]),
        ("a{2,3}", "a aa aaaa", ["aa", "aaa"]),
        ("a{2}", "aaaaa", ["aa", "aa"]),
        ("a{2,}", "a aaaaa", ["aaaaa"]),
        ("x{", "x{", ["x{"]),
        ("cat|dog", "hotdog catalog", ["dog", "cat"]),
        ("(foo|foobar)baz", "foobarbaz", ["foobarbaz"]),
        ("(?:ab)+", "ababab", ["ababab"]),
        ("(?P<word>ab)c", "abc", ["abc"]),
        ("[a-c]+", "xxabcabdd", ["abcab"]),
        ("[^a-c\\s]+", "abc xyz", ["xyz"]),
        ("[\\d.-]+", "v1.2-3", ["1.2-3"]),
        ("[]a]+", "]a]", ["]a]"]),
        ("\\d{3}-\\d{4}", "call 555-1234 now", ["555-1234"]),
        ("\\w+@\\w+", "me@host", ["me@host"]),
        ("\\s+", "a \t b", [" \t "]),
        ("\\bcat\\b", "cat concat cat.", ["cat", "cat"]),
        ("\\Bcat", "concat cat", ["cat"]),
        ("^abc", "abc abc", ["abc"]),
        ("abc$", "abc abc", ["abc"]),
        ("(?m)^ab$", "ab\nab\nabc", ["ab", "ab"]),
        ("(?i)secret", "SECRET Secret secret", ["SECRET", "Secret", "secret"]),
        ("(?i)[a-c]+", "ABCabc", ["ABCabc"]),
        ("(?i:x)y", "XY xy Xy", ["xy", "Xy"]),
        ("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\", ".*+?()[]{}|\\", [".*+?()[]{}|\\"]),
        ("\\x41\\t", "A\t", ["A\t"]),
        ("naïve", "a naïve test", ["naïve"]),
        ("\\D+", "12ab€34", ["ab€"]),
        ("corp\\.internal", "db.corp.internal:5432", ["corp.internal"]),
    ]

    @Test(arguments: conformance)
    func conforms(_ pattern: String, _ text: String, _ expected: [String]) throws {
        let regex = try LinearRegex(pattern)
        let bytes = Array(text.utf8)
        let found = regex.matches(in: text).map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(found == expected, "\(pattern) on \(text)")
    }

    static let rejected: [(String, String)] = [
        ("(a)\\1", "backreference"), ("(?=a)b", "lookahead"), ("(?!a)b", "lookahead"),
        ("(?<=a)b", "lookbehind"), ("(?<!a)b", "lookbehind"), ("\\k<x>", "backreference"),
        ("a++", "possessive"), ("(ab", "missing ')'"), ("ab)", "unbalanced"), ("[ab", "missing ']'"),
        ("*a", "nothing to repeat"), ("a{5,2}", "maximum is below"), ("a{2000}", "above 1000"),
        ("a*", "empty string"), ("[z-a]", "out of order"), ("\\p{L}", "unsupported escape"),
        ("[é]", "non-ASCII"), ("[[:alpha:]]", "POSIX"), ("(?x)a", "unknown group flag"), ("((a{100}){100}){100}", "too large"),
        ("a\\", "trailing backslash"),
    ]

    @Test(arguments: rejected)
    func rejects(_ pattern: String, _ message: String) {
        #expect(throws: GuardrailError.self) { _ = try LinearRegex(pattern) }
        do { _ = try LinearRegex(pattern) } catch {
            #expect(error.message.contains(message), "\(pattern): \(error.message)")
        }
    }

    /// Patterns that take exponential time in backtracking engines complete on long inputs.
    @Test(arguments: ["(a+)+$", "(a|a)*b", "(a*)*b", "(a|aa)+$", "(.*a){12}", "(\\w+\\s?)+$"])
    func hostilePatternsComplete(_ pattern: String) throws {
        let regex = try LinearRegex(pattern)
        let text = String(repeating: "a", count: 20_000) + "!"
        let found = regex.matches(in: text)
        if pattern == "(a|a)*b" || pattern == "(a*)*b" { #expect(found.isEmpty) }
        #expect(found.allSatisfy { $0.count <= LinearRegex.maxMatchBytes })
    }

    @Test func maxLengthBoundsAndCaps() throws {
        #expect(try LinearRegex("abc").maxLength == 3)
        #expect(try LinearRegex("a{2,5}b?").maxLength == 6)
        #expect(try LinearRegex(".").maxLength == 4)
        #expect(try LinearRegex("a+").maxLength == LinearRegex.maxMatchBytes)
    }

    @Test func pendingMatchIsReported() throws {
        let regex = try LinearRegex("secret-[0-9]+")
        var bytes = Array("xx secret-12".utf8)
        let result = bytes.withUnsafeMutableBufferPointer { regex.matches(in: UnsafeBufferPointer($0), final: false) }
        #expect(result.pendingFrom == 3)
    }
}
