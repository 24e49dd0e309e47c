import Specs

extension RunReport {
    /// The report as a JSON object (stable member order; absent values are null).
    public var json: JSONValue {
        func number(_ value: Int32?) -> JSONValue { value.map { .number(JSONNumber(Int($0))) } ?? .null }
        func number(_ value: UInt64?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        func count(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        func millis(_ nanos: UInt64) -> JSONValue {
            .number(JSONNumber(Double(nanos / 1000) / 1000) ?? JSONNumber(0))
        }
        return .object(JSONObject([
            ("exitCode", number(exitCode)),
            ("signal", number(signal)),
            ("exitStatus", count(Int(exitStatus))),
            ("timedOut", .bool(timedOut)),
            ("oomKilled", .bool(oomKilled)),
            ("pidsLimitHit", .bool(pidsLimitHit)),
            ("seccompKilled", .bool(seccompKilled)),
            ("cgroupMode", .string(cgroupMode.rawValue)),
            ("unenforced", .array(unenforced.map { .string($0) })),
            ("memoryPeakBytes", number(memoryPeakBytes)),
            ("cpuTimeNanos", number(cpuTimeNanos)),
            ("stdoutBytes", count(stdoutBytes)), ("stdoutDropped", count(stdoutDropped)),
            ("stderrBytes", count(stderrBytes)), ("stderrDropped", count(stderrDropped)),
            ("setupMs", millis(setupNanos)), ("runMs", millis(runNanos)), ("teardownMs", millis(teardownNanos)),
        ]))
    }
}
