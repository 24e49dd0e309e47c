import Specs

/// Exports a run as OTLP/JSON (one `TracesData` object, the line format of the OTel file exporter).
///
/// Encoding per the OTLP spec: lowerCamelCase keys, trace/span ids as hex, 64-bit integers as
/// decimal strings, enums as integers. Names follow the OTel GenAI conventions where they apply
/// (`invoke_agent {agent}` for the run, `execute_tool {tool}`, `{operation} {model}`); sandbox
/// events (denials, limits, dropped output, recovery) use the `warden.*` namespace. The hash-chained
/// file stays the audit record: spans carry ids and hashes, not content.
public enum OTLPExport {
    static let kindInternal = 1, kindClient = 3
    static let statusUnset = 0, statusOK = 1, statusError = 2

    /// The OTLP/JSON document for one run's records (as read from its file).
    public static func export(records: [TraceRecord], wardenVersion: String) throws(TraceError) -> JSONValue {
        guard let start = records.first, start.type == .runStart,
              let traceID = start.body.string("trace_id").flatMap(TraceID.init(hex:)) else {
            throw TraceError(.format, "a run trace must begin with a run.start record carrying a trace_id")
        }
        var builder = SpanBuilder(traceID: traceID, runStart: start)
        for record in records.dropFirst() { builder.add(record) }
        let host = start.body["host"].flatMap { value -> JSONObject? in if case .object(let o) = value { return o }; return nil }
        let resource = JSONObject([("attributes", .array([
            attribute("service.name", "warden"),
            attribute("host.name", host?.string("hostname") ?? ""),
            attribute("warden.version", start.body.string("warden_version") ?? ""),
        ]))])
        let scope = JSONObject([("name", .string("warden.trace")), ("version", .string(wardenVersion))])
        let scopeSpans = JSONObject([("scope", .object(scope)), ("spans", .array(builder.finish()))])
        let resourceSpans = JSONObject([("resource", .object(resource)), ("scopeSpans", .array([.object(scopeSpans)]))])
        return .object(JSONObject([("resourceSpans", .array([.object(resourceSpans)]))]))
    }

    /// `{"key": k, "value": {"stringValue": v}}`.
    static func attribute(_ key: String, _ value: String) -> JSONValue { keyValue(key, ("stringValue", .string(value))) }
    static func attribute(_ key: String, int value: Int64) -> JSONValue { keyValue(key, ("intValue", .string(String(value)))) }
    static func attribute(_ key: String, bool value: Bool) -> JSONValue { keyValue(key, ("boolValue", .bool(value))) }
    static func attribute(_ key: String, strings: [String]) -> JSONValue {
        let values = JSONValue.array(strings.map { .object(JSONObject([("stringValue", .string($0))])) })
        return keyValue(key, ("arrayValue", .object(JSONObject([("values", values)]))))
    }
    static func attribute(_ key: String, ints: [Int64]) -> JSONValue {
        let values = JSONValue.array(ints.map { .object(JSONObject([("intValue", .string(String($0)))])) })
        return keyValue(key, ("arrayValue", .object(JSONObject([("values", values)]))))
    }

    private static func keyValue(_ key: String, _ value: (String, JSONValue)) -> JSONValue {
        .object(JSONObject([("key", .string(key)), ("value", .object(JSONObject([value])))]))
    }
}

/// Collects spans and their events from the records of one run.
struct SpanBuilder {
    struct Span {
        var id: SpanID
        var parent: SpanID?
        var name: String
        var kind: Int
        var start: UInt64
        var end: UInt64?
        var attributes: [JSONValue] = []
        var events: [JSONValue] = []
        var statusCode = OTLPExport.statusUnset
        var statusMessage = ""
    }

    let traceID: TraceID
    var spans: [Span] = []
    var position: [SpanID: Int] = [:]
    var lastTimestamp: UInt64

    init(traceID: TraceID, runStart: TraceRecord) {
        self.traceID = traceID
        lastTimestamp = runStart.timestamp
        let agent = runStart.body.string("agent") ?? ""
        var root = Span(id: runStart.span, parent: nil, name: agent.isEmpty ? "invoke_agent" : "invoke_agent \(agent)",
                        kind: OTLPExport.kindInternal, start: runStart.timestamp)
        root.attributes = [
            OTLPExport.attribute("gen_ai.operation.name", "invoke_agent"),
            OTLPExport.attribute("gen_ai.agent.name", agent),
            OTLPExport.attribute("gen_ai.agent.id", runStart.body.string("run") ?? ""),
            OTLPExport.attribute("warden.run.id", runStart.body.string("run") ?? ""),
            OTLPExport.attribute("warden.spec.sha256", runStart.body.string("spec_sha256") ?? ""),
            OTLPExport.attribute("warden.policy.sha256", runStart.body.string("policy_sha256") ?? ""),
        ]
        add(root)
    }

    mutating func add(_ span: Span) {
        position[span.id] = spans.count
        spans.append(span)
    }

    mutating func add(_ record: TraceRecord) {
        lastTimestamp = max(lastTimestamp, record.timestamp)
        let body = record.body
        switch record.type {
        case .processSpawn: addProcess(record)
        case .processExit: closeProcess(record)
        case .modelRequest: addCall(record, name: "\(body.string("operation") ?? "chat") \(body.string("model") ?? "")",
                                    kind: body.string("provider") == "warden" ? OTLPExport.kindInternal : OTLPExport.kindClient,
                                    attributes: modelAttributes(body))
        case .toolCall: addCall(record, name: "execute_tool \(body.string("tool") ?? "")", kind: OTLPExport.kindInternal,
                                attributes: toolAttributes(body))
        case .runEnd: closeRun(record)
        case .outputChunk: break  // content stays in the audit log
        default: addEvent(record)
        }
    }

    func event(_ name: String, _ time: UInt64, _ attributes: [JSONValue]) -> JSONValue {
        .object(JSONObject([("timeUnixNano", .string(String(time))), ("name", .string(name)), ("attributes", .array(attributes))]))
    }

    /// Denials, limits, guardrail verdicts, dropped output, recovery: events on the span they belong to.
    mutating func addEvent(_ record: TraceRecord) {
        let body = record.body
        var attributes: [JSONValue] = []
        let prefix = "warden." + (record.type.rawValue.split(separator: ".").first.map(String.init) ?? "event") + "."
        for (key, value) in body.members.sorted(by: { $0.0 < $1.0 }) {
            switch value {
            case .string(let text): attributes.append(OTLPExport.attribute(prefix + key, text))
            case .bool(let flag): attributes.append(OTLPExport.attribute(prefix + key, bool: flag))
            case .number(let number): if let int = number.int64 { attributes.append(OTLPExport.attribute(prefix + key, int: int)) }
            case .array(let items):
                let ints = items.compactMap { item -> Int64? in if case .number(let n) = item { return n.int64 }; return nil }
                if ints.count == items.count { attributes.append(OTLPExport.attribute(prefix + key, ints: ints)) }
            default: break
            }
        }
        let name = "warden." + record.type.rawValue
        let target = position[record.span] ?? 0
        spans[target].events.append(event(name, record.timestamp, attributes))
    }
}
