import Testing
@testable import Specs

/// ToolRule decoding: accepted rules keep their fields, and every kind of mistake is an error
/// located at the value at fault.
@Suite struct ToolsRuleTests {
    static func rule(_ text: String) throws(SpecError) -> ToolRule {
        let document: JSONDocument
        do { document = try JSONParser.parseDocument(text, file: "policy.json") } catch { throw SpecError(error) }
        return try ToolRule.read(document.reader)
    }

    @Test func acceptedRulesKeepTheirFields() throws {
        let read = try Self.rule(#"{"name": "fs.read", "paths": ["notes/**", "*.md"], "maxBytes": "64KiB"}"#)
        #expect(read.name == "fs.read" && read.paths == ["notes/**", "*.md"] && read.maxBytes == 65536)
        let exec = try Self.rule(#"{"name": "code.exec", "timeoutSeconds": 2.5, "memory": "64MiB"}"#)
        #expect(exec.timeoutMilliseconds == 2500 && exec.memoryBytes == 64 << 20)
        let fetch = try Self.rule(#"{"name": "http.fetch", "hosts": ["Example.org", "127.0.0.1:8081"], "methods": ["GET"]}"#)
        #expect(fetch.hosts == ["example.org", "127.0.0.1:8081"] && fetch.methods == ["GET"])
        let server = try Self.rule(#"{"name": "notes.add", "arguments": {"type": "object", "properties": {"text": {"maxLength": 5}}}}"#)
        #expect(server.arguments?.violation(of: .object(["text": .string("too long")])) != nil)
        let wildcard = try Self.rule(#"{"name": "notes.*", "timeoutSeconds": 3}"#)
        #expect(wildcard.covers("notes.add") && wildcard.covers("notes.list") && !wildcard.covers("other.add"))
        #expect(!wildcard.covers("notes"))
    }

    /// (rule text, a fragment the error message must contain, the JSON path it must name)
    static let mistakes: [(String, String, String)] = [
        (#"{"name": "fs.reed"}"#, "did you mean \"fs.read\"", "$.name"),
        (#"{"name": "fs.read", "path": ["a"]}"#, "did you mean \"paths\"", "$.path"),
        (#"{"name": "http.fetch", "hosts": ["a.org"], "paths": ["x"]}"#, "does not apply to http.fetch", "$.paths"),
        (#"{"name": "fs.read", "memory": "1GiB"}"#, "does not apply to fs.read", "$.memory"),
        (#"{"name": "http.fetch", "hosts": "a.org"}"#, "expected an array", "$.hosts"),
        (#"{"name": "http.fetch", "hosts": ["http://a.org"]}"#, "is not host or host:port", "$.hosts[0]"),
        (#"{"name": "http.fetch", "hosts": ["a.org:0"]}"#, "is not host or host:port", "$.hosts[0]"),
        (#"{"name": "http.fetch", "hosts": ["a.org"], "methods": ["DELETE"]}"#, "GET or POST", "$.methods[0]"),
        (#"{"name": "fs.read", "paths": ["/etc/**"]}"#, "relative to the workspace", "$.paths[0]"),
        (#"{"name": "fs.read", "paths": ["a/../b"]}"#, "'..' components", "$.paths[0]"),
        (#"{"name": "fs.read", "paths": ["a**"]}"#, "whole component", "$.paths[0]"),
        (#"{"name": "code.exec", "timeoutSeconds": 0}"#, "out of range", "$.timeoutSeconds"),
        (#"{"name": "code.exec", "memory": "1MiB"}"#, "out of range", "$.memory"),
        (#"{"name": "fs.custom"}"#, "reserved for built-in", "$.name"),
        (#"{"name": "bad server.tool"}"#, "unknown tool", "$.name"),
        (#"{"name": "s.t", "arguments": {"type": "strin"}}"#, "unknown type", "$.arguments.type"),
        (#"{"name": "s.t", "arguments": {"maxLenght": 3}}"#, "did you mean \"maxLength\"", "$.arguments.maxLenght"),
        (#"{"name": "s.t", "arguments": {"minimum": 5, "maximum": 1}}"#, "minimum is above maximum", "$.arguments.minimum"),
        (#"{"name": "s.t", "arguments": {"enum": []}}"#, "allows nothing", "$.arguments.enum"),
        (#"{"name": "s.t", "arguments": {"pattern": "(a)\\1"}}"#, "not supported", "$.arguments.pattern"),
        (#"{"name": "s.t", "arguments": {"pattern": "(?=a)"}}"#, "lookaround", "$.arguments.pattern"),
        (#"{"name": "s.t", "arguments": {"pattern": "a{3,1}"}}"#, "below the minimum", "$.arguments.pattern"),
        (#"{"name": "s.t", "arguments": {"additionalProperties": false, "required": ["x"]}}"#, "\"x\" is required", "$.arguments"),
        (#"{"name": "s.t", "timeoutSeconds": 1, "maxBytes": 10}"#, "does not apply to s.t", "$.maxBytes"),
    ]

    @Test(arguments: mistakes) func mistakesAreLocatedErrors(_ text: String, _ fragment: String, _ path: String) {
        do {
            _ = try Self.rule(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.path == path, "\(error)")
            #expect(error.file == "policy.json" && error.line == 1)
        }
    }

    @Test func aToolListedTwiceIsAnError() throws {
        let document = try JSONParser.parseDocument(#"[{"name": "fs.read"}, {"name": "fs.list"}, {"name": "fs.read"}]"#)
        #expect(throws: SpecError.self) { try ToolRule.readList(document.reader) }
        let fine = try JSONParser.parseDocument(#"[{"name": "fs.read"}, {"name": "notes.*"}]"#)
        #expect(try ToolRule.readList(fine.reader).map(\.name) == ["fs.read", "notes.*"])
    }

    /// (glob, path, matches)
    static let globs: [(String, String, Bool)] = [
        ("notes/**", "notes", true), ("notes/**", "notes/a/b.txt", true), ("notes/**", "notesx/a", false),
        ("*.md", "readme.md", true), ("*.md", "docs/readme.md", false), ("**/*.md", "docs/readme.md", true),
        ("**/*.md", "readme.md", true), ("a/?.txt", "a/b.txt", true), ("a/?.txt", "a/bc.txt", false),
        ("**", "", true), ("out/*", "out", false), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false),
    ]

    @Test(arguments: globs) func globsMatchByComponent(_ glob: String, _ path: String, _ expected: Bool) {
        #expect(PathGlob.matches(glob, path) == expected)
    }
}
