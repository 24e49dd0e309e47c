import Foundation
import TestSupport

/// The escape probes (Tests/EscapeProbes/*.c), compiled once per test process with the host's `cc`.
///
/// Static linking keeps the probe independent of what the policy binds into the sandbox; the
/// sources are not a SwiftPM target, so this is the only place they are built.
enum ProbeBinary {
    struct BuildError: Error, CustomStringConvertible {
        var description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<String, BuildError>?

    /// The path of the built probe; the build runs on first use and its result is kept.
    static func path() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let result = build()
        built = result
        return try result.get()
    }

    private static func build() -> Result<String, BuildError> {
        let sources = WardenTool.packageRoot.appendingPathComponent("Tests/EscapeProbes")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? [])
            .filter { $0.hasSuffix(".c") }.sorted().map { sources.appendingPathComponent($0).path }
        guard !files.isEmpty else { return .failure(BuildError(description: "no probe sources in \(sources.path)")) }
        let directory = NSTemporaryDirectory() + "warden-escape-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = directory + "/probe"
        let arguments = ["-static", "-O2", "-Wall", "-o", output] + files
        guard let run = try? WardenTool.runProcess("/usr/bin/cc", arguments, timeout: 120) else {
            return .failure(BuildError(description: "could not start /usr/bin/cc"))
        }
        guard run.status == 0, !run.timedOut else {
            return .failure(BuildError(description: "cc \(arguments.joined(separator: " ")) failed (\(run.status)):\n\(run.stderr)"))
        }
        return .success(output)
    }
}
