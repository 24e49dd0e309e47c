import Testing
@testable import Specs

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("compact keeps member order; canonical sorts keys by UTF-16 code units")
    func forms() throws {
        let value = try JSONParser.parse("{ \"b\": [1, {\"z\": null, \"a\": true}], \"a\": \"x\", \"\u{FF61}\": 1, \"\u{1F600}\": 2 }")
        #expect(JSONWriter.compact(value) == "{\"b\":[1,{\"z\":null,\"a\":true}],\"a\":\"x\",\"\u{FF61}\":1,\"\u{1F600}\":2}")
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FF61 in UTF-16 order.
        #expect(JSONWriter.canonicalString(value) == "{\"a\":\"x\",\"b\":[1,{\"a\":true,\"z\":null}],\"\u{1F600}\":2,\"\u{FF61}\":1}")
    }

    @Test("strings use the shortest escapes")
    func escapes() {
        #expect(JSONWriter.quoted("a\"b\\c\n\t\u{01}\u{7F}é/") == "\"a\\\"b\\\\c\\n\\t\\u0001\u{7F}é/\"")
    }

    @Test("-0 is written as 0 and numbers otherwise keep their literal")
    func numbers() throws {
        #expect(JSONWriter.canonicalString(try JSONParser.parse("[-0, 1.50, 1E3]")) == "[0,1.50,1E3]")
        #expect(JSONNumber(2.5)?.literal == "2.5" && JSONNumber(3.0)?.literal == "3" && JSONNumber(Double.nan) == nil)
    }

    @Test("pretty output parses back to the same value")
    func pretty() throws {
        let value = try JSONParser.parse("{\"a\":[1,2,{\"b\":[]}],\"c\":{}}")
        let text = JSONWriter.pretty(value)
        #expect(text.contains("\n  \"a\": [\n    1,"))
        #expect(try JSONParser.parse(text) == value)
    }
}
