import Specs
import Testing
@testable import TraceStore
import TestSupport

@Suite("the record encoder writes exactly Specs.JSONWriter's canonical form")
struct CanonicalEncoderTests {
    static let alphabet: [String] = ["a", "B", "z", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "\u{E000}", "\u{FFFD}", "😀", " ", "0"]

    static func randomString(_ random: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
    }

    static func randomValue(_ random: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number([JSONNumber(Int64.random(in: .min ... .max, using: &random)), JSONNumber(literal: "-0")!,
                                JSONNumber(literal: "1.5e-3")!, JSONNumber(UInt64.max)].randomElement(using: &random)!)
        case 3: return .string(randomString(&random))
        case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...6, using: &random) { object[randomString(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(object)
        }
    }

    @Test("random values, including escapes, non-BMP keys and -0")
    func matchesJSONWriter() {
        var random = SeededGenerator(seed: 2026)
        for _ in 0..<3000 {
            let value = Self.randomValue(&random)
            var encoder = CanonicalEncoder(capacity: 64)
            encoder.value(value)
            #expect(encoder.bytes == JSONWriter.canonical(value), "\(JSONWriter.compact(value))")
        }
    }

    @Test("a whole record payload equals JSONWriter.canonical of the same object")
    func recordPayload() {
        let record = TraceRecord(seq: 12, timestamp: 1_796_239_369_448_721_860, type: "seccomp.denial", span: SpanID.random(),
                                 parent: nil, body: JSONObject([("z", .string("x\u{0}y")), ("a", .array([.null]))]), prev: .zero)
        let object = JSONObject([
            ("type", .string("seccomp.denial")), ("ts", .number(JSONNumber(UInt64(1_796_239_369_448_721_860)))),
            ("span", .string(record.span.hex)), ("seq", .number(JSONNumber(12))), ("prev", .string(SHA256Digest.zero.hex)),
            ("parent", .null), ("body", .object(record.body)),
        ])
        #expect(record.payload() == JSONWriter.canonical(.object(object)))
        #expect(Array(record.frame()[8..<(record.frame().count - 4)]) == record.payload())
        #expect(record.frame() == TraceFormat.frame(payload: record.payload()))
    }

    @Test("a frame encoded with a blank prev and chained later equals the frame encoded with it")
    func chainLater() {
        let prev = SHA256Digest(hashing: Array("previous".utf8))
        var record = TraceRecord(seq: 3, timestamp: 42, type: "t", span: SpanID.random(), parent: SpanID.random(),
                                 body: JSONObject([("k", .string("v\"prev\":"))]), prev: .zero)
        let blank = record.unchainedFrame()
        var buffer: [UInt8] = [9, 9, 9]
        let prevOffset = record.appendUnchainedFrame(to: &buffer)
        #expect(Array(buffer[3...]) == blank.frame && prevOffset == blank.prevOffset)
        let end = buffer.count
        buffer += [7, 7]  // the next frame of a batch follows: chaining must stop at `end`
        let hash = TraceFormat.chain(&buffer, frameAt: 3, end: end, prevOffset: prevOffset, prev: prev)
        record.prev = prev
        #expect(Array(buffer[3..<end]) == record.frame() && buffer[end...] == [7, 7])
        #expect(hash == SHA256Digest(hashing: record.frame()))
    }

    @Test("unsigned integers print as decimal, two digits at a time",
          arguments: [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 12345, 1_764_000_000_123_456_789, UInt64.max] as [UInt64])
    func unsignedDecimal(value: UInt64) {
        var encoder = CanonicalEncoder(capacity: 0)
        encoder.unsigned(value)
        #expect(encoder.bytes == Array(String(value).utf8))
    }
}
