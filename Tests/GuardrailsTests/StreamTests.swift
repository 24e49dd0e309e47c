import Specs
import Testing
import TestSupport
@testable import Guardrails

/// Streaming: for any split of a text into chunks, the released text and the findings equal the
/// whole-text result; blocks stop the stream.
@Suite struct StreamTests {
    static let corpus: [String] = [
        "plain prose with nothing to find, repeated. " + String(repeating: "Lorem ipsum dolor sit amet. ", count: 20),
        "token \(Fixtures.githubToken) then aws \(Fixtures.awsKey) and stripe \(Fixtures.stripe).",
        "config:\nDB_PASSWORD=\"Zx8#kP2!qW9vL4m\"\napi_key: 9fK2mQ7xL3vB8nZ1cR5t\nend",
        "mail jane.doe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111.",
        "here is a key\n\(Fixtures.privateKey)\nand a jwt \(Fixtures.jwt) done",
        "naïve café — “quotes” \(Fixtures.openaiProject) ünïcödé €€€ end",
        "project x is PROJECT X and secret-123456 and secret-9",
    ]

    static func settings() -> GuardrailSettings {
        var settings = Fixtures.settings(pii: .redact, deny: [("project", "(?i)project\\s+x"), ("code", "secret-[0-9]+")])
        settings.denylist.action = .redact
        return settings
    }

    /// Splits `text` at random character boundaries.
    static func chunks(_ text: String, using generator: inout SeededGenerator) -> [String] {
        let characters = Array(text)
        var pieces: [String] = []
        var index = 0
        while index < characters.count {
            let length = Int(generator.next() % 40) + 1
            pieces.append(String(characters[index..<min(characters.count, index + length)]))
            index += length
        }
        return pieces
    }

    @Test(arguments: 0..<corpus.count)
    func randomSplitsMatchWholeText(_ index: Int) throws {
        let pipeline = try GuardrailPipeline(settings: Self.settings())
        let text = Self.corpus[index]
        let whole = pipeline.check(text, stage: .modelOutput)
        var generator = SeededGenerator(seed: UInt64(1000 + index))
        for _ in 0..<25 {
            var stream = pipeline.stream(stage: .modelOutput)
            var released = ""
            var final: GuardrailVerdict?
            for piece in Self.chunks(text, using: &generator) {
                guard case .release(let out, _) = stream.feed(piece) else { Issue.record("unexpected block"); return }
                released += out
            }
            guard case .release(let rest, let verdict) = stream.finish() else { Issue.record("unexpected block"); return }
            released += rest
            final = verdict
            #expect(released == whole.text)
            #expect(final?.findings == whole.findings)
            #expect(final?.action == whole.action)
        }
    }

    @Test func blockEndsTheStream() throws {
        let pipeline = try GuardrailPipeline(settings: Fixtures.settings(secrets: .block))
        var stream = pipeline.stream(stage: .modelOutput)
        var released = ""
        var blocked: GuardrailVerdict?
        for piece in ["Sure, the key is ", String(Fixtures.githubToken.prefix(10)), String(Fixtures.githubToken.dropFirst(10)), " and more text follows here"] {
            switch stream.feed(piece) {
            case .release(let text, _): released += text
            case .blocked(let verdict): blocked = verdict
            }
            if blocked != nil { break }
        }
        if blocked == nil, case .blocked(let verdict) = stream.finish() { blocked = verdict }
        #expect(blocked?.reason == "blocked by guardrail secrets/github_token")
        #expect(!released.contains("ghp_"))
        guard case .blocked = stream.feed("more") else { Issue.record("stream continued after a block"); return }
    }

    @Test func cleanTextIsReleasedBeforeTheEnd() throws {
        let pipeline = try GuardrailPipeline(settings: GuardrailSettings())
        var stream = pipeline.stream(stage: .modelOutput)
        var released = ""
        for _ in 0..<50 {
            if case .release(let text, _) = stream.feed("The quick brown fox jumps over the lazy dog.\n") { released += text }
        }
        #expect(released.utf8.count > 1000)  // held back at most the longest open match
    }

    @Test func shadowStreamsPassEverything() throws {
        var settings = Fixtures.settings(secrets: .block)
        settings.mode = .shadow
        var stream = try GuardrailPipeline(settings: settings).stream(stage: .modelOutput)
        var released = ""
        if case .release(let text, _) = stream.feed("key \(Fixtures.githubToken) ok") { released += text }
        guard case .release(let rest, let verdict) = stream.finish() else { Issue.record("shadow blocked"); return }
        released += rest
        #expect(released == "key \(Fixtures.githubToken) ok")
        #expect(verdict?.verdict == "deny" && verdict?.action == .passed)
    }

    @Test func streamSizeLimitCountsTheWholeStream() throws {
        var settings = GuardrailSettings()
        settings.maxBytes = 100
        var stream = try GuardrailPipeline(settings: settings).stream(stage: .modelOutput)
        var blocked = false
        for _ in 0..<20 { if case .blocked = stream.feed("0123456789") { blocked = true; break } }
        #expect(blocked)
    }
}
