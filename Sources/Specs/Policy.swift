/// A security policy (`Policies/*.json`): what an agent may see, use and call.
///
/// ```
/// {
///   "name": "default", "description": "...",
///   "filesystem": {"binds": [...], "symlinks": [...], "tmpfs": [...], "workspace": {"path": "/workspace"}},
///   "network": "none",
///   "limits": {"memory": "512MiB", "pids": 128, "cpus": 1, "wallSeconds": 300, "openFiles": 256, "fileSize": "64MiB"},
///   "seccomp": {...}
/// }
/// ```
public struct Policy: Sendable {
    /// Network isolation. `none`: a new network namespace holding only loopback.
    public enum Network: String, Sendable, CaseIterable {
        case none
    }

    public var name: String
    public var description: String
    /// The file the policy was loaded from (as given), for messages.
    public var file: String
    public var filesystem: FilesystemPolicy
    public var network: Network
    public var limits: ResourceLimits
    public var seccomp: SeccompProfile
    /// What the agent may ask of the broker (BrokerPolicy.swift); nil: no broker for this policy's runs.
    public var broker: BrokerPolicy? = nil

    static let keys = ["name", "description", "filesystem", "network", "limits", "seccomp", "broker"]

    /// Loads and validates the policy at `path`.
    public static func load(path: String) throws(SpecError) -> Policy {
        try read(SpecFile.load(path).reader, file: path)
    }

    /// Parses and validates a policy from `text` (`file` names it in errors; bind sources are checked on this host).
    public static func parse(_ text: String, file: String = "<policy>") throws(SpecError) -> Policy {
        let document: JSONDocument
        do { document = try JSONParser.parseDocument(text, file: file) } catch { throw SpecError(error) }
        return try read(document.reader, file: file)
    }

    static func read(_ reader: JSONReader, file: String) throws(SpecError) -> Policy {
        let object: JSONObjectReader
        let parts: (name: JSONReader, filesystem: JSONReader, network: JSONReader, limits: JSONReader, seccomp: JSONReader)
        do {
            object = try reader.object(keys: keys)
            parts = (try object.required("name"), try object.required("filesystem"), try object.required("network"),
                     try object.required("limits"), try object.required("seccomp"))
        } catch { throw SpecError(error) }
        let networkText = try parts.network.text()
        guard let network = Network(rawValue: networkText) else {
            throw parts.network.specError("unknown network mode \"\(networkText)\"; supported: \(Network.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return Policy(
            name: try parts.name.name(),
            description: try object.optional("description")?.text(allowEmpty: true) ?? "",
            file: file,
            filesystem: try FilesystemPolicy.read(parts.filesystem),
            network: network,
            limits: try ResourceLimits.read(parts.limits),
            seccomp: try SeccompProfile.read(parts.seccomp),
            broker: try object.optional("broker").map { r throws(SpecError) in try BrokerPolicy.read(r) })
    }
}
