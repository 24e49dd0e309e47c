import Testing
@testable import Specs
import TestSupport


enum RandomJSON {
    static let alphabet: [String] = ["a", "b", "key", "é", "\u{1F600}", "\"", "\\", "\n", "\u{01}", " ", "\u{FF61}", "/"]

    static func string(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "" }.joined()
    }

    static func value(depth: Int, _ rng: inout SeededGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth > 4 ? 4 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            let literals = ["0", "-0", "7", "-123456789012345678", "18446744073709551615", "1.25", "-3e-7", "6.02E23"]
            return .number(JSONNumber(literal: literals.randomElement(using: &rng) ?? "0") ?? JSONNumber(0))
        case 3: return .string(string(&rng))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth + 1, &rng) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &rng) { object[string(&rng)] = value(depth: depth + 1, &rng) }
            return .object(object)
        }
    }
}

@Suite("JSON properties and fuzzing")
struct JSONFuzzTests {
    @Test("random values round-trip through compact, pretty and canonical text")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let value = RandomJSON.value(depth: 0, &rng)
            let compact = JSONWriter.compactBytes(value)
            let reparsed = try JSONParser.parse(compact)
            #expect(reparsed == value)
            #expect(try JSONParser.parse(JSONWriter.pretty(value)) == value)
            let canonical = JSONWriter.canonical(value)
            #expect(JSONWriter.canonical(try JSONParser.parse(canonical)) == canonical)
        }
    }

    @Test("every truncation of a valid document is an error, never a crash")
    func truncations() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let value = JSONValue.array([RandomJSON.value(depth: 0, &rng)])
            let bytes = JSONWriter.compactBytes(value)
            for cut in 0..<bytes.count {
                #expect(throws: JSONError.self) { _ = try JSONParser.parse(Array(bytes[..<cut])) }
            }
        }
    }

    @Test("random bytes and random mutations never crash, and errors point inside the input")
    func mutations() throws {
        var rng = SeededGenerator(seed: 2026)
        let tokens: [UInt8] = Array("{}[],:\"\\u0123456789eE+-.tfnrl \n".utf8) + [0x00, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...24, using: &rng)).map { _ in tokens.randomElement(using: &rng) ?? 0 }
            } else {
                bytes = JSONWriter.compactBytes(RandomJSON.value(depth: 0, &rng))
                for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = tokens.randomElement(using: &rng) ?? 0
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                // Whatever parses must re-serialise to something that parses to the same value.
                #expect(try JSONParser.parse(JSONWriter.compactBytes(value)) == value)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count && error.line >= 1 && error.column >= 1)
            }
        }
    }
}
