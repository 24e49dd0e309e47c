import Foundation
@testable import Specs

/// A small valid policy and helpers to write spec/policy files into a fresh temporary directory.
enum PolicyFixtures {
    static let minimalPolicy = """
    {
      "name": "mini",
      "description": "test policy",
      "filesystem": {
        "binds": [{"source": "/usr", "readOnly": true}],
        "symlinks": [{"path": "/bin", "target": "usr/bin"}],
        "tmpfs": [{"path": "/tmp", "size": "8MiB"}],
        "workspace": {"path": "/workspace"}
      },
      "network": "none",
      "limits": {"memory": "256MiB", "pids": 64, "cpus": 1, "wallSeconds": 60, "openFiles": 128, "fileSize": "16MiB"},
      "seccomp": {
        "defaultAction": {"errno": "EPERM"},
        "badArchAction": "kill_process",
        "allow": {"files": ["read", "write", "ioctl"], "processes": ["exit_group", "getpid"]},
        "deny": [{"errno": "ENOSYS", "syscalls": ["clone3"]}],
        "rules": [
          {"syscall": "socket", "action": "allow", "when": [{"arg": 0, "op": "==", "value": "AF_UNIX"}]},
          {"syscall": "ioctl", "errno": "EPERM", "when": [{"arg": 1, "op": "masked==", "mask": "UINT32_MAX", "value": "TIOCSTI"}]}
        ]
      }
    }
    """

    /// A fresh directory under the system temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("warden-specs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `text` to `name` in `directory` and returns the path.
    @discardableResult
    static func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// `minimalPolicy` with `old` replaced by `new` (the replacement must apply).
    static func policy(replacing old: String, with new: String) -> String {
        precondition(minimalPolicy.contains(old), "fixture does not contain \(old)")
        return minimalPolicy.replacingOccurrences(of: old, with: new)
    }
}
