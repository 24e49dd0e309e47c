import Foundation
import Testing
@testable import Specs
import TestSupport

/// Hostile policy and spec files: every truncation, and random replacements of single values deep
/// inside a real policy, must end in a located `SpecError` or a valid policy, never a crash.
@Suite("Policy decoding under random damage")
struct PolicyFuzzTests {
    static let defaultPolicy: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("Policies/default.json"), encoding: .utf8)) ?? ""
    }()

    @Test("every truncation of default.json is a located error")
    func truncations() throws {
        let bytes = Array(Self.defaultPolicy.utf8)
        #expect(bytes.count > 1000)
        for cut in stride(from: 0, to: bytes.count, by: 13) {
            #expect {
                _ = try Policy.parse(String(decoding: bytes[..<cut], as: UTF8.self), file: "cut.json")
            } throws: { error in
                guard let error = error as? SpecError else { return false }
                return error.code == .syntax && error.line >= 1 && error.column >= 1
            }
        }
    }

    /// Replaces the value at a random node of `value` with `replacement`.
    func replacingRandomNode(in value: JSONValue, with replacement: JSONValue, _ rng: inout SeededGenerator) -> JSONValue {
        switch value {
        case .array(var elements) where !elements.isEmpty && Int.random(in: 0..<4, using: &rng) > 0:
            let i = Int.random(in: 0..<elements.count, using: &rng)
            elements[i] = replacingRandomNode(in: elements[i], with: replacement, &rng)
            return .array(elements)
        case .object(var object) where object.count > 0 && Int.random(in: 0..<4, using: &rng) > 0:
            let key = object.keys[Int.random(in: 0..<object.count, using: &rng)]
            object[key] = replacingRandomNode(in: object[key] ?? .null, with: replacement, &rng)
            return .object(object)
        default:
            return replacement
        }
    }

    @Test("random values planted anywhere in default.json never crash the decoder")
    func plantedValues() throws {
        let original = try JSONParser.parse(Self.defaultPolicy)
        var rng = SeededGenerator(seed: 99)
        let hostile: [JSONValue] = [
            .number(JSONNumber(literal: "-1")!), .number(JSONNumber(literal: "0")!), .number(JSONNumber(literal: "1e400")!),
            .number(JSONNumber(literal: "99999999999999999999999")!), .number(JSONNumber(literal: "0.5")!),
            .string(""), .string("/.."), .string("../../etc"), .string("\u{0}"), .string("18446744073709551615TiB"),
            .string("AF_UNIX|AF_BOGUS"), .string("0xffffffffffffffffff"), .array([]), .object([:]), .null, .bool(true),
        ]
        var accepted = 0
        for _ in 0..<300 {
            let planted = Bool.random(using: &rng) ? (hostile.randomElement(using: &rng) ?? .null) : RandomJSON.value(depth: 3, &rng)
            let text = JSONWriter.pretty(replacingRandomNode(in: original, with: planted, &rng))
            do {
                _ = try Policy.parse(text, file: "planted.json")
                accepted += 1
            } catch {
                #expect(error.line >= 1 && error.column >= 1 && error.file == "planted.json", "\(error)")
                #expect(error.code == .syntax || error.path != nil, "\(error)")
            }
        }
        #expect(accepted < 300, "some damage must be caught")
    }
}
