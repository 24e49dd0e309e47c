import Foundation

/// Finds the package and the built `warden` binary, and runs commands for tests with a deadline.
public enum WardenTool {
    /// The package root (the directory holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The `warden` binary under test: `$WARDEN_BIN`, else the debug build in .build/.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["WARDEN_BIN"] { return path }
        return packageRoot.appendingPathComponent(".build/debug/warden").path
    }

    /// What a finished command printed and how it ended.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
    }

    /// Runs `warden` with `arguments`, feeding `input` on stdin, killing it after `timeout` seconds.
    public static func run(_ arguments: [String], input: String? = nil, timeout: Double = 60,
                           environment: [String: String]? = nil, directory: URL? = nil) throws -> Result {
        try runProcess(binary, arguments, input: input, timeout: timeout, environment: environment, directory: directory)
    }

    /// Runs any executable the same way.
    public static func runProcess(_ executable: String, _ arguments: [String], input: String? = nil,
                                  timeout: Double = 60, environment: [String: String]? = nil,
                                  directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = directory ?? packageRoot
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        // A child may exit without reading its input (an early usage error): with SIGPIPE ignored
        // (the broker's MCP servers set that for the whole test process) the write fails with
        // EPIPE, which the throwing API reports instead of trapping like the legacy `write(_:)`.
        if let input { try? inp.fileHandleForWriting.write(contentsOf: Data(input.utf8)) }
        try? inp.fileHandleForWriting.close()
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let collected = Collected()
        let group = DispatchGroup()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            group.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.set(data, isOut: isOut)
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + timeout
        var timedOut = false
        if group.wait(timeout: deadline) == .timedOut {
            timedOut = true
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            _ = group.wait(timeout: .now() + 5)
        }
        process.waitUntilExit()
        let (o, e) = collected.get()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self), timedOut: timedOut)
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func set(_ data: Data, isOut: Bool) { lock.lock(); if isOut { out = data } else { err = data }; lock.unlock() }
    func get() -> (Data, Data) { lock.lock(); defer { lock.unlock() }; return (out, err) }
}
