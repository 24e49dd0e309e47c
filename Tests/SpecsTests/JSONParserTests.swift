import Testing
@testable import Specs

@Suite("JSON parser")
struct JSONParserTests {
    @Test("valid documents parse to the expected values", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        (" [1, -2.5e3, \"a\"] ", .array([.number(JSONNumber(literal: "1")!), .number(JSONNumber(literal: "-2.5e3")!), .string("a")])),
        ("{\"b\":1,\"a\":{}}", .object(["b": .number(JSONNumber(1)), "a": .object([:])])),
        ("\"\\u00e9\\ud83d\\ude00\\n\\/\"", .string("é😀\n/")),
        ("\"héllo\"", .string("héllo")),
        ("9223372036854775807", .number(JSONNumber(Int64.max))),
    ])
    func valid(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test("malformed documents are rejected with the right code and position", arguments: [
        ("", JSONError.Code.unexpectedEnd, 1, 1),
        ("{\"a\":1,}", .syntax, 1, 8),
        ("{\"a\":1,\"a\":2}", .duplicateKey, 1, 8),
        ("[1] x", .trailingData, 1, 5),
        ("\"a\u{01}\"", .controlCharacter, 1, 3),
        ("\"\\ud800\"", .loneSurrogate, 1, 2),
        ("\"\\udc00\"", .loneSurrogate, 1, 2),
        ("\"\\x\"", .invalidEscape, 1, 2),
        ("01", .invalidNumber, 1, 2),
        ("-", .invalidNumber, 1, 2),
        ("1.", .invalidNumber, 1, 3),
        ("1e", .invalidNumber, 1, 3),
        ("[tru]", .syntax, 1, 2),
        ("{\n  \"a\": [1,\n  2 3]}", .syntax, 3, 5),
        ("{\"a\" 1}", .syntax, 1, 6),
        ("{1:2}", .syntax, 1, 2),
        ("[1,2", .unexpectedEnd, 1, 5),
        ("\"abc", .unexpectedEnd, 1, 5),
        ("NaN", .syntax, 1, 1),
    ])
    func malformed(text: String, code: JSONError.Code, line: Int, column: Int) {
        #expect {
            _ = try JSONParser.parse(text, file: "t.json")
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.code == code && error.line == line && error.column == column && error.file == "t.json"
        }
    }

    @Test("duplicate keys are found in small and large objects", arguments: [2, 15, 16, 17, 40])
    func duplicatesAtEverySize(count: Int) {
        let members = (0..<count).map { "\"k\($0)\":\($0)" }
        #expect(throws: Never.self) { _ = try JSONParser.parse("{" + members.joined(separator: ",") + "}") }
        for position in [0, count / 2, count - 1] {
            let text = "{" + (members + ["\"k\(position)\":0"]).joined(separator: ",") + "}"
            #expect { _ = try JSONParser.parse(text) } throws: { ($0 as? JSONError)?.code == .duplicateKey }
        }
    }

    @Test("invalid UTF-8 is rejected: bare continuation, overlong, surrogate, beyond U+10FFFF, truncated",
          arguments: [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let bytes: [UInt8] = [0x22] + sequence + [0x22]
        #expect(throws: JSONError.self) { _ = try JSONParser.parse(bytes) }
    }

    @Test("a byte-order mark is rejected")
    func byteOrderMark() {
        #expect(throws: JSONError.self) { _ = try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x31]) }
    }

    @Test("nesting is limited to 128 levels")
    func depth() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try JSONParser.parse(ok)
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect { _ = try JSONParser.parse(deep) } throws: { ($0 as? JSONError)?.code == .tooDeep }
        // Far deeper input must fail cleanly, not overflow the stack.
        let hostile = String(repeating: "{\"a\":", count: 100_000)
        #expect { _ = try JSONParser.parse(hostile) } throws: { ($0 as? JSONError)?.code == .tooDeep }
    }

    @Test("numbers keep their literal and convert only when exact")
    func numbers() throws {
        let big = try JSONParser.parse("[18446744073709551615, 9223372036854775808, 1.0, 1e3, -0]")
        guard case .array(let items) = big, items.count == 5,
              case .number(let u) = items[0], case .number(let o) = items[1],
              case .number(let f) = items[2], case .number(let e) = items[3] else {
            Issue.record("unexpected shape"); return
        }
        #expect(u.uint64 == UInt64.max && u.int64 == nil)
        #expect(o.int64 == nil && o.literal == "9223372036854775808")
        #expect(f.int64 == nil && f.double == 1.0)
        #expect(e.int64 == nil && e.double == 1000)
        #expect(JSONNumber(literal: "1.5") != nil && JSONNumber(literal: "1.") == nil && JSONNumber(literal: "") == nil)
    }

    @Test("object members keep source order")
    func order() throws {
        guard case .object(let object) = try JSONParser.parse("{\"z\":1,\"a\":2,\"m\":3}") else {
            Issue.record("not an object"); return
        }
        #expect(object.keys == ["z", "a", "m"])
    }

    @Test("every node records where it starts")
    func positions() throws {
        let document = try JSONParser.parseDocument("{\n  \"a\": [10,\n    20]\n}", file: "p.json")
        #expect(document.nodeCount == 4)
        #expect(document.lineColumn(ofNode: 0) == (1, 1))
        #expect(document.lineColumn(ofNode: 1) == (2, 8))
        #expect(document.lineColumn(ofNode: 3) == (3, 5))
    }
}
