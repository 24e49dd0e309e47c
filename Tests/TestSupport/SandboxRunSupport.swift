import Foundation

/// Helpers for tests that run sandboxes through the CLI: scratch directories and policy variants.
public enum SandboxScratch {
    /// A fresh directory under /tmp, removed by `remove`.
    public static func directory(_ prefix: String = "warden-test") throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a scratch directory.
    public static func remove(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    /// The repository's default policy.
    public static var defaultPolicy: URL { WardenTool.packageRoot.appendingPathComponent("Policies/default.json") }

    /// Writes a copy of the default policy with `limits` members replaced, and returns its path.
    public static func policy(in directory: URL, limits: [String: Any]) throws -> URL {
        let data = try Data(contentsOf: defaultPolicy)
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var current = object["limits"] as? [String: Any] ?? [:]
        for (key, value) in limits { current[key] = value }
        object["limits"] = current
        let url = directory.appendingPathComponent("policy.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: url)
        return url
    }

    /// Run groups (`run-<pid>-...`) under any `warden` cgroup parent whose supervisor process is
    /// gone: leaks. (Live runs of concurrently running tests do not count.)
    public static func leakedRunCgroups() -> [String] {
        let roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                     "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/freezer"]
        var leaked: [String] = []
        for root in roots {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { continue }
            while let path = enumerator.nextObject() as? String {
                let parts = path.split(separator: "/")
                if parts.count >= 2, parts[parts.count - 2] == "warden", let name = parts.last, name.hasPrefix("run-"),
                   // Orphans that tests plant on purpose (ExecCommandTests' "-test", the escape suite's
                   // "-escape-control") are another test's business, not a leak.
                   !name.hasSuffix("-test"), !name.hasSuffix("-escape-control"),
                   let pid = Int32(name.split(separator: "-")[1]), kill(pid, 0) != 0 {
                    leaked.append(root + "/" + path)
                }
                if parts.count > 4 { enumerator.skipDescendants() }
            }
        }
        return leaked
    }
}
