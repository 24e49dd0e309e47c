import Testing
@testable import Inference

@Suite("TextStream: UTF-8 across tokens and stop strings across tokens")
struct GenerationStreamTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var chunks: [[UInt8]]
        var stops: [String]
        /// What each append returns, then what finish returns.
        var emitted: [String]
        var stop: String?
        var testDescription: String { name }
    }

    static let smile = Array("🙂".utf8)
    static let cases: [Case] = [
        Case(name: "plain text passes straight through", chunks: [Array("Hel".utf8), Array("lo".utf8)], stops: [],
             emitted: ["Hel", "lo", ""]),
        Case(name: "an emoji split over four tokens appears whole, once", chunks: smile.map { [$0] }, stops: [],
             emitted: ["", "", "", "🙂", ""]),
        Case(name: "a two-byte letter split over tokens", chunks: [[0x63, 0x61, 0x66, 0xC3], [0xA9, 0x21]], stops: [],
             emitted: ["caf", "é!", ""]),
        Case(name: "a stop string across three tokens is never shown", chunks: [Array("ok E".utf8), [0x4E], [0x44, 0x78]],
             stops: ["END"], emitted: ["ok ", "", "", ""], stop: "END"),
        Case(name: "a partial stop that does not complete is released", chunks: [Array("xEN".utf8), Array("x".utf8)],
             stops: ["END"], emitted: ["x", "ENx", ""]),
        Case(name: "a held partial stop is flushed at the end", chunks: [Array("abcE".utf8)], stops: ["END"],
             emitted: ["abc", "E"]),
        Case(name: "the earliest of several stops wins", chunks: [Array("xab".utf8)], stops: ["b", "ab"],
             emitted: ["x", ""], stop: "ab"),
        Case(name: "a stop at the very start leaves no text", chunks: [Array("\n\nUser:".utf8)], stops: ["\n\n"],
             emitted: ["", ""], stop: "\n\n"),
        Case(name: "a stop inside a multi-byte run", chunks: [Array("a🙂".utf8).dropLast(2).map { $0 }, Array("🙂".utf8).suffix(2).map { $0 } + [0x62]],
             stops: ["🙂"], emitted: ["a", "", ""], stop: "🙂"),
        Case(name: "text after the stop is dropped", chunks: [Array("one.two".utf8), Array("three".utf8)], stops: ["."],
             emitted: ["one", "", ""], stop: "."),
        Case(name: "an invalid byte becomes U+FFFD without holding the rest", chunks: [[0xFF, 0x61]], stops: [],
             emitted: ["\u{FFFD}a", ""]),
        Case(name: "an unfinished code point at the end becomes U+FFFD", chunks: [[0x61, 0xE2, 0x82]], stops: [],
             emitted: ["a", "\u{FFFD}"]),
    ]

    @Test("pieces shown per token", arguments: cases)
    func stream(_ item: Case) {
        var stream = TextStream(stopStrings: item.stops)
        var shown = item.chunks.map { stream.append($0) }
        shown.append(stream.finish())
        #expect(shown == item.emitted)
        #expect(stream.matchedStop == item.stop)
        #expect(!shown.joined().contains("\u{FFFD}") || item.name.contains("U+FFFD"))
    }

    @Test("completePrefixLength never cuts a valid string short and never ends inside a code point")
    func completePrefix() {
        for text in ["", "a", "é", "中", "🙂", "a🙂b", "👨‍👩‍👧"] {
            let bytes = Array(text.utf8)
            #expect(TextStream.completePrefixLength(bytes) == bytes.count)
            for cut in 0..<bytes.count {
                let prefix = Array(bytes[..<cut])
                let n = TextStream.completePrefixLength(prefix)
                #expect(String(decoding: prefix[..<n], as: UTF8.self).unicodeScalars.allSatisfy { $0 != "\u{FFFD}" })
            }
        }
    }
}
