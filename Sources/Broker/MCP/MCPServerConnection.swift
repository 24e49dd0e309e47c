import Dispatch
import Glibc
import HostOS
import Sandbox
import Specs
import Synchronization

/// One MCP server an agent spec declares (its `broker.mcpServers` entry).
public struct MCPServerConfig: Sendable {
    /// The server's name: its tools appear as `name.tool`.
    public var name: String
    /// argv inside the sandbox (argv[0] absolute, or found in PATH).
    public var command: [String]
    /// Extra environment variables.
    public var environment: [String: String]

    public init(name: String, command: [String], environment: [String: String] = [:]) {
        self.name = name; self.command = command; self.environment = environment
    }
}

/// Why a server could not be started or initialized.
public struct MCPServerError: Error, Sendable, CustomStringConvertible {
    public let server: String
    public let message: String
    public var description: String { "MCP server \(server): \(message)" }
}

/// A started stdio MCP server in its own sandbox (the spec's policy, its code read-only at /agent,
/// no network), after the handshake, with the tools it listed. `stop` (or the end of the run)
/// kills its sandbox.
public final class MCPServerConnection: Sendable {
    public let name: String
    /// The server's tools under their own names (the registry prefixes `name.`), from the handshake.
    public var tools: [ToolDescriptor] { toolList.withLock { $0 } }
    let toolList = Mutex<[ToolDescriptor]>([])
    let channel: StdioChannel
    /// Closing it tells the run's supervision to kill the server (`SandboxRun.Settings.stop`).
    let stopSignal: Mutex<FileDescriptor?>
    /// Signalled when the sandbox has been torn down.
    let ended = DispatchSemaphore(value: 0)

    init(name: String, channel: StdioChannel, stopSignal: FileDescriptor) {
        self.name = name; self.channel = channel; self.stopSignal = Mutex(stopSignal)
    }

    deinit {
        if let signal = stopSignal.withLock({ $0 }) { try? signal.close() }
    }

    /// Launches `config` under `policy` and runs initialize, notifications/initialized, tools/list.
    public static func start(_ config: MCPServerConfig, policy: Policy, codeDirectory: String?,
                             timeoutMilliseconds: Int64 = 20_000) throws(MCPServerError) -> MCPServerConnection {
        // The server's stdout reaches us through the run's output pump, which writes into a pipe
        // we read; a write to a server that died must be EPIPE, not a signal to the supervisor.
        signal(SIGPIPE, SIG_IGN)
        let fail = { (message: String) in MCPServerError(server: config.name, message: message) }
        var request: SandboxRun.Request
        do { request = try sandboxRequest(config, policy: policy, codeDirectory: codeDirectory) } catch {
            throw fail("cannot prepare its sandbox: \(error)")
        }
        let pipes: (stdin: (readEnd: FileDescriptor, writeEnd: FileDescriptor), stdout: (readEnd: FileDescriptor, writeEnd: FileDescriptor),
                    stop: (readEnd: FileDescriptor, writeEnd: FileDescriptor))
        do { pipes = (try FileDescriptor.pipe(), try FileDescriptor.pipe(), try FileDescriptor.pipe()) } catch {
            throw fail("cannot create pipes: \(error)")
        }
        request.standardInput = pipes.stdin.readEnd
        var settings = SandboxRun.Settings(outputLimit: .max, stdout: .descriptor(pipes.stdout.writeEnd.rawValue), stderr: .discard)
        settings.stop = pipes.stop.readEnd.rawValue
        let channel = StdioChannel(input: pipes.stdin.writeEnd)
        let connection = MCPServerConnection(name: config.name, channel: channel, stopSignal: pipes.stop.writeEnd)
        let ours = (stdout: pipes.stdout.writeEnd, stop: pipes.stop.readEnd, stdin: pipes.stdin.writeEnd)
        let (launch, supervision) = (request, settings)
        DispatchQueue.global().async { connection.supervise(launch, supervision, closing: ours) }
        DispatchQueue.global().async { channel.readLoop(pipes.stdout.readEnd) }
        let deadline = StdioChannel.monotonic() + UInt64(timeoutMilliseconds) * 1_000_000
        do {
            let tools = try handshake(channel, deadline: deadline)
            connection.toolList.withLock { $0 = tools }
            return connection
        } catch {
            connection.stop()
            throw fail(error.description)
        }
    }

    /// The server's sandbox: the spec's policy, its code at /agent (also the working directory).
    static func sandboxRequest(_ config: MCPServerConfig, policy: Policy, codeDirectory: String?) throws(SandboxRun.Error) -> SandboxRun.Request {
        var request = try SandboxRun.Request.command(config.command, policy: policy, workspace: nil)
        request.codeDirectory = codeDirectory
        if codeDirectory != nil { request.workingDirectory = "/agent" }
        for (key, value) in config.environment { request.environment[key] = value }
        return request
    }

    /// Runs the server's sandbox to its end (on its own thread), then closes our pipe ends so the
    /// reader sees end of file and waiting calls fail with the reason.
    func supervise(_ request: SandboxRun.Request, _ settings: SandboxRun.Settings,
                   closing ours: (stdout: FileDescriptor, stop: FileDescriptor, stdin: FileDescriptor)) {
        let outcome: String
        do {
            let result = try SandboxRun.execute(request, settings: settings)
            outcome = "exited: \(result.report.summary)"
        } catch {
            outcome = "did not start: \(error)"
        }
        try? ours.stdout.close()
        try? ours.stop.close()
        channel.close(outcome)
        try? ours.stdin.close()
        ended.signal()
    }

    /// initialize, notifications/initialized, then tools/list (following cursors, bounded).
    static func handshake(_ channel: StdioChannel, deadline: UInt64) throws(StdioChannel.Failure) -> [ToolDescriptor] {
        let hello = JSONObject([
            ("protocolVersion", .string(MCPSurface.supportedVersions[0])), ("capabilities", .object([:])),
            ("clientInfo", .object(JSONObject([("name", .string("warden-broker")), ("version", .string("0.1.0"))]))),
        ])
        guard case .object = try channel.request("initialize", params: .object(hello), deadline: deadline).get() else {
            throw .malformed("initialize result is not an object")
        }
        if let failure = channel.notify("notifications/initialized", params: nil, deadline: deadline) { throw failure }
        var tools: [ToolDescriptor] = []
        var cursor: JSONValue?
        for _ in 0..<16 {
            let params: JSONValue = cursor.map { .object(["cursor": $0]) } ?? .object([:])
            guard case .object(let page) = try channel.request("tools/list", params: params, deadline: deadline).get(),
                  case .array(let list)? = page["tools"] else { throw .malformed("tools/list result has no tools array") }
            for case .object(let tool) in list {
                guard case .string(let name)? = tool["name"], ToolRule.isToolName(name[...]) else { continue }
                let description: String = if case .string(let text)? = tool["description"] { text } else { "" }
                tools.append(ToolDescriptor(name: name, description: description, inputSchema: tool["inputSchema"] ?? .object(["type": .string("object")])))
            }
            guard let next = page["nextCursor"], next != .null else { break }
            cursor = next
        }
        return tools
    }
}
