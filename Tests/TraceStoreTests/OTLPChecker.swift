import Specs
@testable import TraceStore

/// A strict checker for our OTLP/JSON output, stricter than receivers on purpose (they ignore
/// unknown keys, so a misspelt key would be silently lost data): allowed keys only, id lengths,
/// non-zero ids, one trace id, parent links inside the trace, int64 as strings, enums as integers,
/// end >= start, unique attribute keys.
enum OTLPChecker {
    static let spanKeys: Set<String> = ["traceId", "spanId", "parentSpanId", "traceState", "flags", "name", "kind",
                                        "startTimeUnixNano", "endTimeUnixNano", "attributes", "droppedAttributesCount",
                                        "events", "droppedEventsCount", "links", "droppedLinksCount", "status"]
    static let valueKeys: Set<String> = ["stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"]

    static func spans(_ document: JSONValue) -> [JSONObject] {
        guard case .object(let top) = document, case .array(let resources)? = top["resourceSpans"] else { return [] }
        return resources.flatMap { resource -> [JSONObject] in
            guard case .object(let r) = resource, case .array(let scopes)? = r["scopeSpans"] else { return [] }
            return scopes.flatMap { scope -> [JSONObject] in
                guard case .object(let s) = scope, case .array(let spans)? = s["spans"] else { return [] }
                return spans.compactMap { if case .object(let o) = $0 { return o }; return nil }
            }
        }
    }

    static func check(_ document: JSONValue) -> [String] {
        var problems: [String] = []
        guard case .object(let top) = document else { return ["document is not an object"] }
        keys(top, ["resourceSpans"], "$", &problems)
        if case .array(let resources)? = top["resourceSpans"] {
            for case .object(let r) in resources {
                keys(r, ["resource", "scopeSpans", "schemaUrl"], "resourceSpans", &problems)
                if case .object(let resource)? = r["resource"] { attributes(resource["attributes"], "resource", &problems) }
                if case .array(let scopes)? = r["scopeSpans"] {
                    for case .object(let s) in scopes { keys(s, ["scope", "spans", "schemaUrl"], "scopeSpans", &problems) }
                }
            }
        }
        let all = spans(document)
        if all.isEmpty { problems.append("no spans") }
        let ids = Set(all.compactMap { $0.string("spanId") })
        if ids.count != all.count { problems.append("span ids are not unique") }
        if Set(all.compactMap { $0.string("traceId") }).count != 1 { problems.append("more than one trace id") }
        if all.filter({ $0["parentSpanId"] == nil }).count != 1 { problems.append("not exactly one root span") }
        for span in all { checkSpan(span, ids: ids, &problems) }
        return problems
    }

    static func checkSpan(_ span: JSONObject, ids: Set<String>, _ problems: inout [String]) {
        let name = span.string("name") ?? "?"
        keys(span, spanKeys, name, &problems)
        if !hex(span.string("traceId"), 32) { problems.append("\(name): traceId is not 32 non-zero hex digits") }
        if !hex(span.string("spanId"), 16) { problems.append("\(name): spanId is not 16 non-zero hex digits") }
        if let parent = span["parentSpanId"] {
            guard case .string(let p) = parent, hex(p, 16), ids.contains(p) else { problems.append("\(name): parentSpanId does not resolve"); return }
        }
        guard case .number(let kind)? = span["kind"], let k = kind.int64, (1...5).contains(k) else { problems.append("\(name): kind is not an integer 1...5"); return }
        guard let start = uint(span["startTimeUnixNano"]), let end = uint(span["endTimeUnixNano"]), start > 0 else {
            problems.append("\(name): times are not decimal strings"); return
        }
        if end < start { problems.append("\(name): end before start") }
        attributes(span["attributes"], name, &problems)
        if case .array(let events)? = span["events"] {
            for case .object(let event) in events {
                keys(event, ["timeUnixNano", "name", "attributes", "droppedAttributesCount"], name + " event", &problems)
                if uint(event["timeUnixNano"]) == nil { problems.append("\(name): event time is not a decimal string") }
                attributes(event["attributes"], name + " event", &problems)
            }
        }
        if case .object(let status)? = span["status"] {
            keys(status, ["code", "message"], name + " status", &problems)
            guard case .number(let code)? = status["code"], let c = code.int64, (0...2).contains(c) else { problems.append("\(name): status code"); return }
        }
        if name.hasPrefix("invoke_agent") && attribute(span, "gen_ai.operation.name") != "invoke_agent" { problems.append("\(name): gen_ai.operation.name") }
        if name.hasPrefix("execute_tool ") && attribute(span, "gen_ai.tool.name") == nil { problems.append("\(name): gen_ai.tool.name") }
    }

    static func attributes(_ value: JSONValue?, _ context: String, _ problems: inout [String]) {
        guard let value else { return }
        guard case .array(let list) = value else { problems.append("\(context): attributes is not an array"); return }
        var seen = Set<String>()
        for case .object(let item) in list {
            keys(item, ["key", "value"], context + " attribute", &problems)
            guard let key = item.string("key"), seen.insert(key).inserted else { problems.append("\(context): duplicate or missing attribute key"); continue }
            guard case .object(let v)? = item["value"], v.count == 1, let kind = v.keys.first, valueKeys.contains(kind) else {
                problems.append("\(context): attribute \(key) has no single typed value"); continue
            }
            if kind == "intValue", case .string(let text)? = v["intValue"], Int64(text) != nil { continue }
            if kind == "intValue" { problems.append("\(context): \(key) intValue is not an int64 string") }
        }
    }

    static func keys(_ object: JSONObject, _ allowed: Set<String>, _ context: String, _ problems: inout [String]) {
        for key in object.keys where !allowed.contains(key) { problems.append("\(context): unknown key '\(key)'") }
    }

    static func hex(_ text: String?, _ length: Int) -> Bool {
        guard let text, text.utf8.count == length, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return false }
        return text.contains { $0 != "0" }
    }

    static func uint(_ value: JSONValue?) -> UInt64? {
        if case .string(let text)? = value { return UInt64(text) }
        return nil
    }

    static func attribute(_ span: JSONObject, _ key: String) -> String? {
        guard case .array(let list)? = span["attributes"] else { return nil }
        for case .object(let item) in list where item.string("key") == key {
            if case .object(let v)? = item["value"] { return v.string("stringValue") }
        }
        return nil
    }

    /// The document with its second span changed by `mutate` (for the checker's own tests).
    static func mutatingSecondSpan(_ document: JSONValue, _ mutate: (inout JSONObject) -> Void) -> JSONValue {
        guard case .object(var top) = document, case .array(var resources)? = top["resourceSpans"],
              case .object(var r) = resources[0], case .array(var scopes)? = r["scopeSpans"],
              case .object(var s) = scopes[0], case .array(var spans)? = s["spans"], case .object(var span) = spans[1] else { return document }
        mutate(&span)
        spans[1] = .object(span); s["spans"] = .array(spans); scopes[0] = .object(s); r["scopeSpans"] = .array(scopes)
        resources[0] = .object(r); top["resourceSpans"] = .array(resources)
        return .object(top)
    }
}
