/// An agent spec (`AgentSpecs/*.json`): what to run, with which code, under which policy.
///
/// ```
/// {
///   "name": "hello", "description": "...",
///   "policy": "../Policies/default.json",       // relative to this file's directory
///   "code": "hello",                             // host directory, relative to this file; mounted ro at /agent
///   "entrypoint": ["/bin/sh", "/agent/hello.sh"],
///   "workingDirectory": "/agent",
///   "environment": {"PATH": "/usr/bin:/bin"},    // exactly this; nothing is inherited
///   "limits": {"memory": "128MiB"},              // may only tighten the policy's
///   "timeoutSeconds": 30,
///   "broker": {"models": [...], "tools": [...], "mcpServers": [...]}   // optional: may only narrow the policy's
/// }
/// ```
public struct AgentSpec: Sendable {
    /// One environment variable.
    public struct EnvironmentVariable: Equatable, Sendable {
        public var name: String
        public var value: String
    }

    /// Where a spec's code directory appears inside the sandbox.
    public static let codeMountPoint = "/agent"

    public var name: String
    public var description: String
    /// The file the spec was loaded from, as given.
    public var file: String
    /// The policy file, resolved to an absolute path.
    public var policyPath: String
    /// The policy, loaded and validated.
    public var policy: Policy
    /// The code directory on the host (absolute, symlinks resolved), mounted read-only at /agent; nil for none.
    public var codeDirectory: String?
    /// argv; `entrypoint[0]` is an absolute path inside the sandbox.
    public var entrypoint: [String]
    public var workingDirectory: String
    /// The complete environment of the agent, in spec order.
    public var environment: [EnvironmentVariable]
    /// The effective limits: the policy's, tightened by the spec's `limits` and `timeoutSeconds`.
    public var limits: ResourceLimits
    /// The effective broker policy: the policy's `broker` section narrowed by the spec's. Nil when the
    /// spec has no `broker` section (`"broker": {}` takes the policy's as is): a run gets a broker
    /// endpoint, and the OPENAI_* / WARDEN_MCP_URL variables, only when its spec asks for one.
    public var broker: BrokerPolicy? = nil
    /// External MCP servers the spec declares (`broker.mcpServers`).
    public var mcpServers: [MCPServer] = []

    static let keys = ["name", "description", "policy", "code", "entrypoint", "workingDirectory", "environment",
                       "limits", "timeoutSeconds", "broker"]

    /// Loads the spec at `path`, then the policy it names, and checks the spec against the policy.
    public static func load(path: String) throws(SpecError) -> AgentSpec {
        try read(SpecFile.load(path).reader, file: path)
    }

    /// The environment as `NAME=value` strings, ready for execve.
    public var environmentStrings: [String] { environment.map { $0.name + "=" + $0.value } }

    static func read(_ reader: JSONReader, file: String) throws(SpecError) -> AgentSpec {
        let object: JSONObjectReader
        let nameReader: JSONReader, policyReader: JSONReader, entrypointReader: JSONReader
        do {
            object = try reader.object(keys: keys)
            nameReader = try object.required("name")
            policyReader = try object.required("policy")
            entrypointReader = try object.required("entrypoint")
        } catch { throw SpecError(error) }
        let directory = SpecFile.directory(of: SpecFile.absolute(file))
        let policyText = try policyReader.text()
        guard let policyPath = SpecFile.resolve(policyText, against: directory) else {
            throw policyReader.specError("policy file \"\(policyText)\" not found (paths are relative to \(directory))")
        }
        let policy = try Policy.load(path: policyPath)
        var spec = AgentSpec(
            name: try nameReader.name(),
            description: try object.optional("description")?.text(allowEmpty: true) ?? "",
            file: file, policyPath: policyPath, policy: policy,
            codeDirectory: try object.optional("code").map { r throws(SpecError) in try readCode(r, directory: directory) },
            entrypoint: try readEntrypoint(entrypointReader),
            workingDirectory: try object.optional("workingDirectory")?.sandboxPath(allowRoot: true) ?? policy.filesystem.workspace?.path ?? "/",
            environment: try readEnvironment(object.optional("environment")),
            limits: policy.limits)
        try spec.applyLimits(object)
        try spec.applyBroker(object.optional("broker"))
        return spec
    }

    static func readCode(_ reader: JSONReader, directory: String) throws(SpecError) -> String {
        let text = try reader.text()
        if text.hasPrefix("/") || text.split(separator: "/").contains("..") {
            throw reader.specError("\"\(text)\" must be a relative path inside the spec's directory, without '..'")
        }
        guard let resolved = SpecFile.resolve(text, against: directory) else {
            throw reader.specError("code directory \"\(text)\" does not exist (relative to \(directory))")
        }
        guard SpecFile.fileType(resolved) == S_IFDIR_VALUE else { throw reader.specError("\"\(text)\" is not a directory") }
        return resolved
    }

    static func readEntrypoint(_ reader: JSONReader) throws(SpecError) -> [String] {
        let elements: [JSONReader]
        do { elements = try reader.array() } catch { throw SpecError(error) }
        guard let first = elements.first else { throw reader.specError("entrypoint is empty; give at least the program to run") }
        var argv = [try first.sandboxPath()]
        for element in elements.dropFirst() { argv.append(try element.text(allowEmpty: true)) }
        return argv
    }

    static func readEnvironment(_ reader: JSONReader?) throws(SpecError) -> [EnvironmentVariable] {
        guard let reader else { return [] }
        let object: JSONObjectReader
        do { object = try reader.anyObject() } catch { throw SpecError(error) }
        var result: [EnvironmentVariable] = []
        for member in object.members {
            if member.key.isEmpty || member.key.utf8.contains(UInt8(ascii: "=")) || member.key.utf8.contains(0) {
                throw member.reader.specError("\"\(member.key)\" is not a valid environment variable name")
            }
            result.append(EnvironmentVariable(name: member.key, value: try member.reader.text(allowEmpty: true)))
        }
        return result
    }

    /// Narrows the policy's broker section with the spec's; a spec section without a policy one is an error.
    mutating func applyBroker(_ reader: JSONReader?) throws(SpecError) {
        guard let reader else { return }
        guard let policyBroker = policy.broker else {
            throw reader.specError("the policy (\(policy.file)) has no broker section, so the spec cannot have one", code: .loosensPolicy)
        }
        (broker, mcpServers) = try policyBroker.narrowed(by: reader, policyFile: policy.file)
    }

    /// Tightens `limits` with the spec's `limits` object and `timeoutSeconds`, refusing anything looser.
    mutating func applyLimits(_ object: JSONObjectReader) throws(SpecError) {
        var overrides = LimitOverrides()
        var origins: [String: JSONReader] = [:]
        if let limitsReader = object.optional("limits") {
            overrides = try LimitOverrides.read(limitsReader)
            if let members = try? limitsReader.anyObject().members {
                for member in members { origins[member.key] = member.reader }
            }
        }
        if let timeout = object.optional("timeoutSeconds") {
            if overrides.wallMilliseconds != nil { throw timeout.specError("give either timeoutSeconds or limits.wallSeconds, not both") }
            overrides.wallMilliseconds = try timeout.fixedPoint(scale: 3, in: ResourceLimits.Bounds.wallMilliseconds, unit: "seconds")
            origins["wallSeconds"] = timeout
        }
        limits = try policy.limits.tightened(by: overrides, origins: origins, policyFile: policy.file)
    }
}
