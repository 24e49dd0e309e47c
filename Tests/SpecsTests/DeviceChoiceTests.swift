import Testing
@testable import Specs

@Suite("Inference devices: pool.devices in the model-serving file, inference.devices in policies")
struct DeviceChoiceTests {
    @Test("pool.devices: auto, cpu or GPU ordinals, with where it was written")
    func poolDevices() throws {
        let cases: [(String, DeviceChoice)] = [("\"auto\"", .auto), ("\"cpu\"", .cpu), ("[1, 0]", .gpus([1, 0]))]
        for (text, expected) in cases {
            let serving = try ModelServing.parse("{\"pool\": {\"devices\": \(text)}}", file: "m.json")
            #expect(serving.pool.devices == expected)
            #expect(serving.pool.devicesSource == "m.json:1:22: $.pool.devices")
        }
        #expect(try ModelServing.parse("{}").pool.devices == nil)
    }

    /// (the file, code, line, column, JSON path, text the message must contain)
    static let badPools: [(String, SpecError.Code, Int, Int, String, String)] = [
        ("{\"pool\": {\"devices\": \"gpu\"}}", .invalidValue, 1, 22, "$.pool.devices", "expected \"auto\", \"cpu\" or a list"),
        ("{\"pool\": {\"devices\": \"atuo\"}}", .invalidValue, 1, 22, "$.pool.devices", "did you mean \"auto\""),
        ("{\"pool\": {\"devices\": []}}", .invalidValue, 1, 22, "$.pool.devices", "at least one GPU ordinal"),
        ("{\"pool\": {\"devices\": [0, 0]}}", .invalidValue, 1, 26, "$.pool.devices[1]", "GPU 0 is listed twice"),
        ("{\"pool\": {\"devices\": [-1]}}", .invalidValue, 1, 23, "$.pool.devices[0]", "out of range (0...255)"),
        ("{\"pool\": {\"devices\": [\"0\"]}}", .schema, 1, 23, "$.pool.devices[0]", "expected a number"),
        ("{\"pool\": {\"devices\": 0}}", .schema, 1, 22, "$.pool.devices", "found a number"),
        ("{\"pool\": {\"device\": \"cpu\"}}", .schema, 1, 11, "$.pool.device", "did you mean \"devices\""),
    ]

    @Test("bad pool.devices values are errors at file:line:column and path", arguments: badPools.indices)
    func badPoolDevices(index: Int) throws {
        let (text, code, line, column, path, message) = Self.badPools[index]
        do {
            _ = try ModelServing.parse(text, file: "m.json")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == code && error.file == "m.json" && error.path == path, "\(error)")
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    static func share(_ text: String, over base: InferenceShare = .init()) throws(SpecError) -> InferenceShare {
        let document: JSONDocument
        do { document = try JSONParser.parseDocument(Array(text.utf8), file: "p.json") } catch { throw SpecError(error) }
        return try InferenceShare.read(document.reader, over: base).0
    }

    @Test("inference.devices reads a list of ordinals; the summary names them")
    func policyDevices() throws {
        let share = try Self.share("{\"weight\": 2, \"devices\": [1]}")
        #expect(share.devices == [1] && share.weightMilli == 2000)
        #expect(share.summary.hasSuffix(", on GPUs 1"))
        #expect(try Self.share("{}").devices == nil)
        #expect(throws: SpecError.self) { try Self.share("{\"devices\": \"cpu\"}") }
    }

    @Test("a spec may keep fewer devices than its policy, never others")
    func narrowing() throws {
        let policy = InferenceShare(devices: [0, 1])
        func narrowed(_ text: String) throws(SpecError) -> InferenceShare {
            let document: JSONDocument
            do { document = try JSONParser.parseDocument(Array(text.utf8), file: "spec.json") } catch { throw SpecError(error) }
            return try policy.narrowed(by: document.reader) { reader, what in
                var error = SpecError(reader.error("loosens the policy: \(what)"))
                error.code = .loosensPolicy
                return error
            }
        }
        #expect(try narrowed("{\"devices\": [1]}").devices == [1])
        #expect(try narrowed("{\"weight\": 0.5}").devices == [0, 1])
        do {
            _ = try narrowed("{\"devices\": [1, 2]}")
            Issue.record("a spec widened the policy's devices")
        } catch {
            #expect(error.code == .loosensPolicy && error.path == "$.devices[1]" && error.message.contains("GPU 2"), "\(error)")
        }
        let open = InferenceShare()
        #expect(try open.narrowed(by: JSONParser.parseDocument(Array("{\"devices\": [3]}".utf8)).reader) { r, _ in SpecError(r.error("x")) }.devices == [3])
    }
}
