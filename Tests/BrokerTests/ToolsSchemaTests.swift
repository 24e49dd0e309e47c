import Testing
@testable import Specs
import TestSupport

/// The argument-schema subset, including its `pattern` keyword.
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

    /// A `pattern` that allows the empty string is accepted (only deny lists refuse those), and a
    /// pattern the engine cannot run is an error at load. (The engine's own cases: SpecsTests.)
    @Test func patternsAllowEmptyAndRefuseBackreferences() throws {
        let empty = try #require(ArgumentSchema.parse(#"{"type": "string", "pattern": "^[a-z]*$"}"#))
        #expect(empty.violation(of: .string("")) == nil)
        #expect(empty.violation(of: .string("A"))?.contains("does not match") == true)
        #expect(ArgumentSchema.parse(#"{"type": "string", "pattern": "(a)\\1"}"#) == nil)
    }

    @Test func builtInSchemasCompile() {
        #expect(Self.schema != nil)
    }
}
