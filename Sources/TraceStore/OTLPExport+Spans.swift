import Specs

extension SpanBuilder {
    mutating func addProcess(_ record: TraceRecord) {
        let body = record.body
        let executable = body.string("executable") ?? ""
        let base = executable.split(separator: "/").last.map(String.init) ?? executable
        var span = Span(id: record.span, parent: record.parent ?? spans[0].id, name: "warden.process \(base)",
                        kind: OTLPExport.kindInternal, start: record.timestamp)
        var argv: [String] = []
        if case .array(let items)? = body["argv"] {
            argv = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
        }
        span.attributes = [
            OTLPExport.attribute("process.pid", int: body.int("pid") ?? 0),
            OTLPExport.attribute("process.executable.path", executable),
            OTLPExport.attribute("process.executable.name", base),
            OTLPExport.attribute("process.command_args", strings: argv),
        ]
        add(span)
    }

    mutating func closeProcess(_ record: TraceRecord) {
        guard let at = position[record.span] else { return addEvent(record) }
        let body = record.body
        spans[at].end = max(record.timestamp, spans[at].start)
        if let code = body.int("exit_code") { spans[at].attributes.append(OTLPExport.attribute("process.exit.code", int: code)) }
        if let signal = body.int("signal") { spans[at].attributes.append(OTLPExport.attribute("warden.process.signal", int: signal)) }
        for flag in ["oom_killed", "pids_limit_hit", "timed_out", "seccomp_killed"] {
            spans[at].attributes.append(OTLPExport.attribute("warden.process.\(flag)", bool: body.bool(flag)))
        }
        for key in ["peak_memory_bytes", "cgroup_cpu_ns"] {
            if let value = body.int(key) { spans[at].attributes.append(OTLPExport.attribute("warden.process.\(key)", int: value)) }
        }
        let failed = body.int("exit_code").map { $0 != 0 } ?? true
        spans[at].statusCode = failed ? OTLPExport.statusError : OTLPExport.statusUnset
        if failed { spans[at].statusMessage = body.int("signal").map { "killed by signal \($0)" } ?? "exit code \(body.int("exit_code") ?? -1)" }
    }

    mutating func addCall(_ record: TraceRecord, name: String, kind: Int, attributes: [JSONValue]) {
        let start = record.body.uint("start_ns") ?? record.timestamp
        var span = Span(id: record.span, parent: record.parent ?? spans[0].id, name: name, kind: kind, start: start,
                        end: max(start, record.body.uint("end_ns") ?? start))
        span.attributes = attributes
        if let error = record.body.string("error") {
            span.statusCode = OTLPExport.statusError
            span.statusMessage = error
            span.attributes.append(OTLPExport.attribute("error.type", "warden.error"))
        }
        add(span)
    }

    func modelAttributes(_ body: JSONObject) -> [JSONValue] {
        var list = [
            OTLPExport.attribute("gen_ai.operation.name", body.string("operation") ?? "chat"),
            OTLPExport.attribute("gen_ai.provider.name", body.string("provider") ?? ""),
            OTLPExport.attribute("gen_ai.request.model", body.string("model") ?? ""),
        ]
        if let n = body.int("input_tokens") { list.append(OTLPExport.attribute("gen_ai.usage.input_tokens", int: n)) }
        if let n = body.int("output_tokens") { list.append(OTLPExport.attribute("gen_ai.usage.output_tokens", int: n)) }
        if let n = body.int("cached_input_tokens") { list.append(OTLPExport.attribute("gen_ai.usage.cache_read.input_tokens", int: n)) }
        if case .array(let items)? = body["finish_reasons"], !items.isEmpty {
            list.append(OTLPExport.attribute("gen_ai.response.finish_reasons",
                                             strings: items.compactMap { if case .string(let s) = $0 { return s }; return nil }))
        }
        return list
    }

    func toolAttributes(_ body: JSONObject) -> [JSONValue] {
        [
            OTLPExport.attribute("gen_ai.operation.name", "execute_tool"),
            OTLPExport.attribute("gen_ai.tool.name", body.string("tool") ?? ""),
            OTLPExport.attribute("gen_ai.tool.call.id", body.string("call_id") ?? ""),
            OTLPExport.attribute("warden.tool.decision", body.string("decision") ?? ""),
        ]
    }

    mutating func closeRun(_ record: TraceRecord) {
        let body = record.body
        spans[0].end = max(record.timestamp, spans[0].start)
        let status = body.string("status") ?? ""
        spans[0].attributes.append(OTLPExport.attribute("warden.run.status", status))
        if let code = body.int("exit_code") { spans[0].attributes.append(OTLPExport.attribute("warden.run.exit_code", int: code)) }
        spans[0].statusCode = status == "ok" ? OTLPExport.statusOK : OTLPExport.statusError
        if status != "ok" { spans[0].statusMessage = body.string("reason") ?? status }
    }

    /// The spans as OTLP/JSON; spans never closed end at the last record's time.
    func finish() -> [JSONValue] {
        spans.map { span in
            let end = max(span.end ?? lastTimestamp, span.start)
            var members: [(String, JSONValue)] = [
                ("traceId", .string(traceID.hex)), ("spanId", .string(span.id.hex)),
            ]
            if let parent = span.parent { members.append(("parentSpanId", .string(parent.hex))) }
            members += [
                ("name", .string(span.name)), ("kind", .number(JSONNumber(span.kind))),
                ("startTimeUnixNano", .string(String(span.start))), ("endTimeUnixNano", .string(String(end))),
                ("attributes", .array(span.attributes)), ("events", .array(span.events)),
            ]
            var status: [(String, JSONValue)] = [("code", .number(JSONNumber(span.statusCode)))]
            if !span.statusMessage.isEmpty { status.append(("message", .string(span.statusMessage))) }
            members.append(("status", .object(JSONObject(status))))
            return .object(JSONObject(members))
        }
    }
}
