import Foundation

/// A `warden serve` child process for tests: its own state, trace and socket paths in a scratch
/// directory, started and waited for until its socket answers.
public final class TestDaemon: @unchecked Sendable {
    public let directory: URL
    public let socketPath: String
    public let stateDirectory: String
    public let traceDirectory: String
    public let configPath: String
    public private(set) var process: Process?
    private var errorLog: URL { directory.appendingPathComponent("serve-\(starts).log") }
    private var starts = 0

    /// Prepares the paths and writes a config with `extra` members (JSON text, no leading comma).
    public init(extra: String = "") throws {
        directory = try SandboxScratch.directory("warden-daemon")
        socketPath = directory.appendingPathComponent("w.sock").path
        stateDirectory = directory.appendingPathComponent("state").path
        traceDirectory = directory.appendingPathComponent("traces").path
        configPath = directory.appendingPathComponent("config.json").path
        let text = """
            {"socket": "\(socketPath)", "stateDirectory": "\(stateDirectory)", "traceDirectory": "\(traceDirectory)"\(extra.isEmpty ? "" : ", " + extra)}
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The environment the CLI clients and `warden trace` need to find this daemon and its traces.
    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["WARDEN_SOCKET"] = socketPath
        env["WARDEN_TRACE_DIR"] = traceDirectory
        return env
    }

    /// Starts `warden serve` and waits (up to `timeout` seconds) until the socket answers /healthz.
    public func start(timeout: Double = 60) throws {
        starts += 1
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WardenTool.binary)
        process.arguments = ["serve", "--config", configPath]
        process.environment = environment
        FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        let handle = try FileHandle(forWritingTo: errorLog)
        process.standardError = handle
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning { throw DaemonError("warden serve exited: \(log())") }
            if let reply = try? request("GET", "/healthz"), reply.status == 200 { return }
            usleep(20_000)
        }
        throw DaemonError("warden serve did not answer within \(timeout) s: \(log())")
    }

    /// What the daemon wrote to stderr (this start).
    public func log() -> String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the process to exit; returns its exit status (or 128+signal).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 60) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        process.waitUntilExit()
        self.process = nil
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Stops the daemon if running and removes the scratch directory.
    public func cleanUp() {
        if process != nil { stop(signal: SIGKILL) }
        SandboxScratch.remove(directory)
    }

    /// One HTTP request on the unix socket with curl (a real, independent client); returns status and body.
    public func request(_ method: String, _ target: String, body: Data? = nil, timeout: Double = 60,
                        headers: [String] = []) throws -> (status: Int, body: Data) {
        var arguments = ["-sS", "--max-time", String(Int(timeout)), "--unix-socket", socketPath, "-X", method,
                         "-o", "-", "-w", "\n%{http_code}", "http://localhost" + target]
        for header in headers { arguments += ["-H", header] }
        if let body {
            let file = directory.appendingPathComponent("body-\(UUID().uuidString)")
            try body.write(to: file)
            arguments += ["--data-binary", "@" + file.path, "-H", "Content-Type: application/octet-stream"]
        }
        let result = try WardenTool.runProcess("/usr/bin/curl", arguments, timeout: timeout + 5)
        guard result.status == 0, let newline = result.stdout.lastIndex(of: "\n"),
              let status = Int(result.stdout[result.stdout.index(after: newline)...]) else {
            throw DaemonError("curl \(method) \(target) failed (\(result.status)): \(result.stderr)")
        }
        return (status, Data(result.stdout[..<newline].utf8))
    }

    /// A request whose answer is a JSON object.
    public func json(_ method: String, _ target: String, body: Data? = nil, timeout: Double = 60) throws -> (status: Int, object: [String: Any]) {
        let (status, data) = try request(method, target, body: body, timeout: timeout)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DaemonError("not a JSON object: \(String(decoding: data, as: UTF8.self))")
        }
        return (status, object)
    }

    /// Deploys the spec at `path` (201 expected) with optional concurrency and queue limits.
    public func deploy(_ path: String, concurrency: Int? = nil, queueLimit: Int? = nil) throws -> (status: Int, object: [String: Any]) {
        var body: [String: Any] = ["spec": path]
        if let concurrency { body["concurrency"] = concurrency }
        if let queueLimit { body["queueLimit"] = queueLimit }
        return try json("POST", "/v1/agents", body: try JSONSerialization.data(withJSONObject: body))
    }

    /// The runs the daemon lists, by id.
    public func runs() throws -> [String: [String: Any]] {
        let list = try json("GET", "/v1/runs").object["runs"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { $1 })
    }

    /// Waits (up to `timeout` seconds) until `condition` holds for the run list.
    public func waitForRuns(timeout: Double = 60, _ condition: ([String: [String: Any]]) -> Bool) throws -> [String: [String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let runs = try runs()
            if condition(runs) { return runs }
            usleep(20_000)
        }
        throw DaemonError("the runs never reached the expected state: \(try runs())")
    }
}

/// A test daemon's failure, with what it printed.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Agent specs written by tests: a shell script under the default policy plus a read-only bind
/// of a "gate" directory at /gate, which the test opens by creating files in it (no sleeps).
public enum TestAgents {
    /// Writes policy (with /gate) and spec for `script`; returns the spec path.
    public static func spec(in directory: URL, name: String, script: String, gate: URL? = nil,
                            adjustPolicy: ((inout [String: Any]) -> Void)? = nil, extra: [String: Any] = [:]) throws -> String {
        let data = try Data(contentsOf: SandboxScratch.defaultPolicy)
        guard var policy = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var filesystem = policy["filesystem"] as? [String: Any], var binds = filesystem["binds"] as? [[String: Any]] else {
            throw DaemonError("the default policy is not what the tests expect")
        }
        if let gate {
            try FileManager.default.createDirectory(at: gate, withIntermediateDirectories: true)
            binds.append(["source": gate.path, "target": "/gate", "readOnly": true])
        }
        filesystem["binds"] = binds
        policy["filesystem"] = filesystem
        adjustPolicy?(&policy)
        let policyURL = directory.appendingPathComponent("\(name)-policy.json")
        try JSONSerialization.data(withJSONObject: policy).write(to: policyURL)
        var spec: [String: Any] = [
            "name": name, "policy": policyURL.path, "entrypoint": ["/bin/sh", "-c", script],
            "workingDirectory": "/workspace", "environment": ["PATH": "/usr/bin:/bin"],
        ]
        for (key, value) in extra { spec[key] = value }
        let specURL = directory.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specURL)
        return specURL.path
    }

    /// A script that waits until /gate/NAME exists, then runs `then`.
    public static func gated(_ file: String, then: String) -> String {
        "while [ ! -e /gate/\(file) ]; do sleep 0.02; done; \(then)"
    }
}
