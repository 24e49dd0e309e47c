import Testing
@testable import Specs
import TestSupport

@Suite("JSON reader")
struct JSONReaderTests {
    let text = """
    {
      "name": "x",
      "limits": {"memory": 5, "pids": 1.5},
      "list": ["a", 2],
      "nmae": 1
    }
    """

    func document() throws -> JSONDocument { try JSONParser.parseDocument(text, file: "r.json") }

    @Test("an unknown key is an error at the key with a did-you-mean hint")
    func unknownKey() throws {
        let document = try document()
        #expect {
            _ = try document.reader.object(keys: ["name", "limits", "list"])
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.code == .unknownKey && error.line == 5 && error.column == 3
                && error.path == "$.nmae" && error.message.contains("did you mean \"name\"")
        }
    }

    @Test("typed reads report the JSON path and position of the offending value")
    func typed() throws {
        let root = try document().reader.object(keys: ["name", "limits", "list", "nmae"])
        #expect(try root.required("name").string() == "x")
        let limits = try root.required("limits").object(keys: ["memory", "pids"])
        #expect(try limits.required("memory").integer(in: 1...10) == 5)
        #expect {
            _ = try limits.required("pids").integer()
        } throws: { error in
            let error = error as? JSONError
            return error?.path == "$.limits.pids" && error?.line == 3 && error?.column == 35
        }
        #expect {
            _ = try root.required("list").stringArray()
        } throws: { error in
            let error = error as? JSONError
            return error?.path == "$.list[1]" && error?.code == .typeMismatch && error?.description.hasPrefix("r.json:4:17: $.list[1]: expected a string") == true
        }
        #expect { _ = try limits.required("absent") } throws: { ($0 as? JSONError)?.path == "$.limits" }
        #expect { _ = try limits.required("memory").integer(in: 6...10) } throws: { ($0 as? JSONError)?.code == .invalidValue }
    }

    @Test("a node's path rebuilt from the document equals the path the reader walked to it")
    func pathOfNode() throws {
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<100 {
            let document = try JSONParser.parseDocument(JSONWriter.compactBytes(RandomJSON.value(depth: 0, &rng)))
            var visited = 0
            func walk(_ reader: JSONReader) throws {
                visited += 1
                #expect(document.path(ofNode: reader.node).description == reader.path.description)
                switch reader.value {
                case .array: for child in try reader.array() { try walk(child) }
                case .object: for member in try reader.anyObject().members { try walk(member.reader) }
                default: break
                }
            }
            try walk(document.reader)
            #expect(visited == document.nodeCount)
        }
    }

    @Test("paths quote keys that are not identifiers")
    func pathRendering() {
        let path = JSONPath.root.appending(key: "seccomp").appending(key: "a b").appending(index: 3).appending(key: "9x")
        #expect(path.description == "$.seccomp[\"a b\"][3][\"9x\"]")
    }

    @Test("suggestions: close typos suggest, unrelated words do not", arguments: [
        ("nmae", "name"), ("defaultaction", "defaultAction"), ("lmits", "limits"), ("zzzzzz", nil),
    ] as [(String, String?)])
    func suggestions(word: String, expected: String?) {
        #expect(Spelling.suggestion(for: word, among: ["name", "defaultAction", "limits"]) == expected)
    }
}
