import Foundation

/// Helpers for the trace tests: scratch directories, the trace-bench child, the OTLP checker venv.
public enum TraceTools {
    /// The trace-bench executable (demo runs, crash writer), built by `swift build` next to warden.
    public static var benchBinary: String {
        URL(fileURLWithPath: WardenTool.binary).deletingLastPathComponent().appendingPathComponent("trace-bench").path
    }

    /// A fresh empty directory under the system temp directory.
    public static func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "warden-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Records `count` demo runs into `directory` with trace-bench; returns their run ids.
    public static func demoRuns(_ directory: String, count: Int = 1) throws -> [String] {
        let result = try WardenTool.runProcess(benchBinary, ["demo", directory, String(count)], timeout: 60)
        guard result.status == 0 else {
            throw TraceToolError("trace-bench demo failed (\(result.status)); is it built (swift build)? \(result.stderr)")
        }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// The Python of a venv holding `opentelemetry-proto-json`, created on first use under
    /// `$XDG_CACHE_HOME/warden/test-venv` (default ~/.cache); throws with the pip output if it cannot be installed.
    public static func otlpCheckerPython() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let venv = cache + "/warden/test-venv"
        let python = venv + "/bin/python"
        let probe = "import opentelemetry.proto_json.collector.trace.v1.trace_service"
        if FileManager.default.fileExists(atPath: python),
           (try? WardenTool.runProcess(python, ["-c", probe]))?.status == 0 { return python }
        try FileManager.default.createDirectory(atPath: cache + "/warden", withIntermediateDirectories: true)
        let create = try WardenTool.runProcess("/usr/bin/env", ["python3", "-m", "venv", venv], timeout: 120)
        guard create.status == 0 else { throw TraceToolError("cannot create the venv \(venv): \(create.stderr)") }
        // typing_extensions is imported by opentelemetry-proto-json 0.66b2 but not declared by it.
        let install = try WardenTool.runProcess(venv + "/bin/pip", ["install", "-q", "opentelemetry-proto-json", "typing_extensions"], timeout: 300)
        guard install.status == 0, (try? WardenTool.runProcess(python, ["-c", probe]))?.status == 0 else {
            throw TraceToolError("the OTLP check needs the PyPI package opentelemetry-proto-json in \(venv), and pip could not install it: \(install.stderr)")
        }
        return python
    }
}

/// A failure of the trace test helpers, with its reason.
public struct TraceToolError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
