import Glibc
import Sandbox
import Specs

/// `code.exec`: runs Python or shell code in a fresh sandbox under the strict policy
/// (Policies/strict.json: no network, a small syscall allowlist, a throwaway tmpfs workspace),
/// with its own time and memory limits, never looser than the strict policy's. Output is captured
/// and bounded; the result carries exit status, signal, timeout and duration.
struct CodeExecTool: BrokerTool {
    /// The strict policy, loaded once when the registry is built.
    let policy: Policy
    static let defaultTimeoutMilliseconds: Int64 = 10_000
    static let defaultOutputBytes: UInt64 = 64 << 10

    let descriptor = ToolDescriptor(
        name: "code.exec",
        description: "Run Python or shell code in a fresh sandbox with no network; returns stdout, stderr, exit status and duration.",
        inputSchema: CodeExecTool.schemaJSON, annotations: ToolDescriptor.hints(readOnly: true))  // a fresh sandbox each time
    let schema = ToolArguments.schema(CodeExecTool.schemaText)

    static let schemaText = #"""
    {"type": "object", "additionalProperties": false, "required": ["language", "code"],
     "properties": {"language": {"enum": ["python", "sh"]},
                    "code": {"type": "string", "minLength": 1, "maxLength": 65536},
                    "timeoutSeconds": {"type": "number", "minimum": 0.01, "maximum": 3600}}}
    """#
    static let schemaJSON = ToolArguments.schema(schemaText).json

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        let code = ToolArguments.string(arguments, "code") ?? ""
        let argv = ToolArguments.string(arguments, "language") == "python"
            ? ["/usr/bin/python3", "-I", "-c", code] : ["/bin/sh", "-c", code]
        var request: SandboxRun.Request
        do { request = try .command(argv, policy: policy, workspace: nil) } catch {
            return .failure("code.exec cannot prepare its sandbox: \(error)")
        }
        request.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/workspace", "LANG": "C.UTF-8"]
        let (memory, timeout) = limits(arguments, rule: rule)
        request.cgroupLimits.memoryBytes = memory
        request.timeoutNanos = UInt64(timeout) * 1_000_000
        let outputLimit = Int(rule.maxBytes ?? Self.defaultOutputBytes)
        let settings = SandboxRun.Settings(outputLimit: outputLimit, stdout: .capture, stderr: .capture)
        let result: SandboxRun.Result
        do { result = try SandboxRun.execute(request, settings: settings) } catch {
            return .failure("code.exec could not run the code: \(error)")
        }
        return Self.summarize(result, timeoutMilliseconds: timeout)
    }

    /// Memory and wall time: the call's and the rule's requests, capped by the strict policy.
    func limits(_ arguments: JSONObject, rule: ToolRule) -> (memory: UInt64, timeoutMilliseconds: Int64) {
        let memory = min(rule.memoryBytes ?? policy.limits.memoryBytes, policy.limits.memoryBytes)
        var timeout = min(rule.timeoutMilliseconds ?? Self.defaultTimeoutMilliseconds, policy.limits.wallMilliseconds)
        if let asked = ToolArguments.number(arguments, "timeoutSeconds") {
            timeout = min(timeout, max(10, Int64((asked * 1000).rounded(.up))))
        }
        return (memory, timeout)
    }

    static func summarize(_ result: SandboxRun.Result, timeoutMilliseconds: Int64) -> ToolResult {
        let report = result.report
        let stdout = String(decoding: result.stdout, as: UTF8.self)
        let stderr = String(decoding: result.stderr, as: UTF8.self)
        let milliseconds = Int64(report.runNanos / 1_000_000)
        var status: String
        if report.timedOut { status = "timed out after \(timeoutMilliseconds) ms" }
        else if report.oomKilled { status = "killed: out of memory" }
        else if let signal = report.signal { status = "killed by signal \(signal)" + (report.seccompKilled ? " (forbidden system call)" : "") }
        else { status = "exit status \(report.exitCode ?? -1)" }
        var text = stdout
        if !stderr.isEmpty { text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "[stderr]\n" + stderr }
        text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "[\(status), \(milliseconds) ms]"
        let structured = JSONObject([
            ("stdout", .string(stdout)), ("stderr", .string(stderr)),
            ("exitCode", report.exitCode.map { .number(JSONNumber(Int($0))) } ?? .null),
            ("signal", report.signal.map { .number(JSONNumber(Int($0))) } ?? .null),
            ("timedOut", .bool(report.timedOut)), ("oomKilled", .bool(report.oomKilled)),
            ("outputTruncated", .bool(report.stdoutDropped > 0 || report.stderrDropped > 0)),
            ("durationMs", .number(JSONNumber(milliseconds))),
        ])
        return ToolResult(text: text, structured: structured, isError: !report.succeeded)
    }
}
