import Foundation
import Testing
@testable import TraceStore
import TestSupport

@Suite("reader fuzz: random, truncated and mutated files give errors, never crashes")
struct ReaderFuzzTests {
    static func validRun() throws -> [UInt8] {
        let fixture = try TraceFixture("fuzz")
        defer { fixture.remove() }
        let runID = try fixture.run(extra: 3)
        return try fixture.bytes(fixture.path(runID))
    }

    /// Scans bytes: must throw a TraceError or return; a crash fails the whole test binary.
    static func scan(_ bytes: [UInt8]) -> TraceFileScan? { try? TraceReader.scan(bytes: bytes, path: "fuzz") }

    @Test("random bytes, with and without a valid header")
    func randomBytes() {
        var random = SeededGenerator(seed: 42)
        for round in 0..<3000 {
            var bytes = random.bytes(Int.random(in: 0...600, using: &random))
            if round % 2 == 0 { bytes = TraceFormat.header(kind: .run) + bytes }
            if let scan = Self.scan(bytes) {
                #expect(scan.records.isEmpty || scan.problem == nil || scan.validEnd <= Int64(bytes.count))
                if !bytes.dropFirst(16).isEmpty { #expect(scan.problem != nil, "random bytes read as clean records") }
            }
        }
    }

    @Test("every truncation of a valid file reads as a prefix of its records")
    func truncations() throws {
        let bytes = try Self.validRun()
        let full = try #require(Self.scan(bytes))
        #expect(full.problem == nil)
        for cut in 0..<bytes.count {
            guard let scan = Self.scan(Array(bytes[..<cut])) else { #expect(cut < 16); continue }
            #expect(scan.records.map(\.hash) == Array(full.records.map(\.hash).prefix(scan.records.count)))
            #expect(scan.ending == .clean || scan.ending == .tornTail, "a truncation is never mid-file damage (cut \(cut))")
        }
    }

    @Test("random byte mutations of a valid file are always detected")
    func mutations() throws {
        let bytes = try Self.validRun()
        var random = SeededGenerator(seed: 99)
        for _ in 0..<1500 {
            var bad = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bad[Int.random(in: 0..<bad.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            if let scan = Self.scan(bad) { #expect(scan.problem != nil) }
        }
    }

    @Test("huge declared lengths do not allocate or crash")
    func hugeLength() {
        var bytes = TraceFormat.header(kind: .run)
        bytes += [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0] + [UInt8](repeating: 1, count: 64)
        let scan = Self.scan(bytes)
        #expect(scan?.problem?.message.contains("exceeds") == true)
    }
}
