import Glibc
import Guardrails
import Specs

/// `jsonl` mode: scan each input line's text with every detector and print the findings.
enum JSONLScan {
    static func settings() -> GuardrailSettings {
        var settings = GuardrailSettings()
        for keyPath: WritableKeyPath<GuardrailSettings, GuardrailSettings.Detector> in [\.secrets, \.pii, \.injection, \.size] {
            settings[keyPath: keyPath] = .init(action: .flag)
        }
        settings.maxBytes = 1 << 30
        return settings
    }

    static func run() {
        let pipeline: GuardrailPipeline
        do { pipeline = try GuardrailPipeline(settings: settings()) } catch { fail("\(error)") }
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.isEmpty { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(line, file: "stdin:\(lineNumber)") } catch { fail("line \(lineNumber): \(error)") }
            guard case .object(let object) = value, let textIndex = object.keys.firstIndex(of: "text"),
                  case .string(let text) = object.values[textIndex] else { fail("line \(lineNumber): expected {\"id\": ..., \"text\": \"...\"}") }
            let id = object.keys.firstIndex(of: "id").map { object.values[$0] } ?? .number(JSONNumber(lineNumber))
            let verdict = pipeline.check(text, stage: .modelInput)
            let findings: [JSONValue] = verdict.findings.map { finding in
                .object(JSONObject([("detector", .string(finding.detector)), ("rule", .string(finding.rule)),
                                    ("start", .number(JSONNumber(finding.range.lowerBound))), ("end", .number(JSONNumber(finding.range.upperBound)))]))
            }
            say(JSONWriter.compact(.object(JSONObject([("id", id), ("findings", .array(findings))]))))
        }
    }
}
