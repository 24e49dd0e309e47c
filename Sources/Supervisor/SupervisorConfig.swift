import Glibc
import Specs
import TraceStore

/// The supervisor's configuration (`warden serve --config FILE`), read strictly: unknown keys and
/// mistyped values are errors naming file:line:column and the JSON path. Every field has a default,
/// so `warden serve` runs with no file at all.
///
/// ```
/// {
///   "socket": "/run/warden/warden.sock",       // the control API's unix socket
///   "stateDirectory": "/var/lib/warden/state", // deployed agents and runs (crash-safe)
///   "traceDirectory": "/var/lib/warden/traces",
///   "agentsDirectory": "/etc/warden/agents",   // optional: `warden deploy NAME` finds NAME.json here
///   "concurrency": 4,                          // default invocations running at once per agent
///   "queueLimit": 64,                          // default invocations waiting per agent (429 beyond)
///   "outputLimitBytes": 1048576,               // per stream of one run
///   "runRetention": 1000,                      // finished runs kept in the state store
///   "graceSeconds": 10,                        // drain time at SIGTERM before runs are killed
///   "restartBackoffMilliseconds": 1000,        // first restart delay of a failed replica (doubles, ≤ 60 s)
///   "crashLoopRestarts": 5,                    // this many restarts within the window: crash loop,
///   "crashLoopWindowSeconds": 60               //   no more restarts until the agent is redeployed
/// }
/// ```
public struct SupervisorConfig: Sendable {
    public var socketPath: String
    public var stateDirectory: String
    public var traceDirectory: String
    public var agentsDirectory: String?
    /// A model-serving file (Policies/models.example.json): the shared inference pool's sizing and
    /// upstream models. nil: the embedded model on a default pool.
    public var modelsPath: String?
    public var concurrency: Int = 4
    public var queueLimit: Int = 64
    public var outputLimitBytes: Int = 1 << 20
    public var runRetention: Int = 1000
    public var graceSeconds: Double = 10
    /// The first restart delay of a failed replica, doubled per consecutive failure up to 60 s.
    public var restartBackoffMilliseconds: Int = 1000
    /// A replica restarted this many times within `crashLoopWindowSeconds` is crash-looping: it is
    /// not restarted again until the agent is updated or deployed again.
    public var crashLoopRestarts: Int = 5
    public var crashLoopWindowSeconds: Double = 60

    static let keys = ["socket", "stateDirectory", "traceDirectory", "agentsDirectory", "concurrency", "queueLimit",
                       "outputLimitBytes", "runRetention", "graceSeconds", "restartBackoffMilliseconds", "crashLoopRestarts",
                       "crashLoopWindowSeconds", "models"]

    /// The defaults for this process's environment and user.
    public init(environment: [String: String] = TraceDirectory.currentEnvironment(), isRoot: Bool = geteuid() == 0) {
        socketPath = Self.defaultSocketPath(environment: environment, isRoot: isRoot)
        if isRoot {
            stateDirectory = "/var/lib/warden/state"
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            stateDirectory = state + "/warden/state"
        } else {
            stateDirectory = (environment["HOME"] ?? "/tmp") + "/.local/state/warden/state"
        }
        traceDirectory = TraceDirectory.resolve(environment: environment, isRoot: isRoot).path
        agentsDirectory = nil
    }

    /// `$WARDEN_SOCKET`, else /run/warden/warden.sock as root, else `$XDG_RUNTIME_DIR/warden.sock`
    /// (/tmp/warden-UID/warden.sock without XDG_RUNTIME_DIR). The CLI clients use the same default.
    public static func defaultSocketPath(environment: [String: String] = TraceDirectory.currentEnvironment(),
                                         isRoot: Bool = geteuid() == 0) -> String {
        if let explicit = environment["WARDEN_SOCKET"], !explicit.isEmpty { return explicit }
        if isRoot { return "/run/warden/warden.sock" }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/warden.sock" }
        return "/tmp/warden-\(getuid())/warden.sock"
    }

    /// Reads `path` over the defaults.
    public static func load(path: String) throws(SupervisorError) -> SupervisorConfig {
        let document: JSONDocument
        do {
            document = try JSONParser.parseDocument(try readFile(path, limit: 1 << 20), file: path)
        } catch let error as JSONError {
            throw SupervisorError(.configuration, SpecError(error).description)
        } catch let error as SupervisorError {
            throw error
        } catch {
            throw SupervisorError(.configuration, "\(path): \(error)")
        }
        do throws(JSONError) {
            return try read(document.reader)
        } catch {
            throw SupervisorError(.configuration, SpecError(error).description)
        }
    }

    static func read(_ reader: JSONReader) throws(JSONError) -> SupervisorConfig {
        var config = SupervisorConfig()
        let object = try reader.object(keys: keys)
        if let r = object.optional("socket") { config.socketPath = try absolutePath(r) }
        if let r = object.optional("stateDirectory") { config.stateDirectory = try absolutePath(r) }
        if let r = object.optional("traceDirectory") { config.traceDirectory = try absolutePath(r) }
        if let r = object.optional("agentsDirectory") { config.agentsDirectory = try absolutePath(r) }
        if let r = object.optional("models") { config.modelsPath = try absolutePath(r) }
        if let r = object.optional("concurrency") { config.concurrency = Int(try r.integer(in: 1...1024)) }
        if let r = object.optional("queueLimit") { config.queueLimit = Int(try r.integer(in: 0...1_000_000)) }
        if let r = object.optional("outputLimitBytes") { config.outputLimitBytes = Int(try r.integer(in: 0...(1 << 30))) }
        if let r = object.optional("runRetention") { config.runRetention = Int(try r.integer(in: 1...10_000_000)) }
        if let r = object.optional("graceSeconds") {
            let seconds = try r.number().double
            guard seconds >= 0, seconds <= 86_400 else { throw r.error("graceSeconds must be between 0 and 86400") }
            config.graceSeconds = seconds
        }
        if let r = object.optional("restartBackoffMilliseconds") { config.restartBackoffMilliseconds = Int(try r.integer(in: 1...600_000)) }
        if let r = object.optional("crashLoopRestarts") { config.crashLoopRestarts = Int(try r.integer(in: 1...10_000)) }
        if let r = object.optional("crashLoopWindowSeconds") {
            let seconds = try r.number().double
            guard seconds > 0, seconds <= 86_400 else { throw r.error("crashLoopWindowSeconds must be between 0 and 86400") }
            config.crashLoopWindowSeconds = seconds
        }
        return config
    }

    /// A string value that must be an absolute path.
    static func absolutePath(_ reader: JSONReader) throws(JSONError) -> String {
        let text = try reader.string()
        guard text.hasPrefix("/") else { throw reader.error("expected an absolute path, got \"\(text)\"") }
        return text
    }
}

/// Reads a whole regular file of at most `limit` bytes.
func readFile(_ path: String, limit: Int) throws(SupervisorError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .system("cannot open", path) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw .system("cannot read", path) }
        if n == 0 { return bytes }
        bytes += buffer[0..<n]
        if bytes.count > limit { throw SupervisorError(.io, "\(path): larger than \(limit) bytes") }
    }
}
