import Foundation
import Glibc

/// A fresh host directory for one sandboxed probe run: the workspace with a copy of the probe,
/// and, beside it (outside the workspace), host files the probe must not reach.
final class ProbeWorkspace {
    /// The temporary directory holding everything; removed on deinit.
    let base: String
    /// The directory mounted at /workspace.
    let directory: String
    /// The probe's file name: unique, at most 15 bytes, so it is also the probes' `comm` on the host.
    let probeName: String
    /// A root-only (0600) host file with known content.
    let secret: String
    let secretContent = "warden-escape-secret-\(UInt64.random(in: 0...UInt64.max))\n"
    /// A host file the probe tries to overwrite through a planted symlink.
    let victim: String
    let victimContent = "warden-escape-victim\n"

    init() throws {
        var template = Array("/tmp/warden-escape-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HostSpawn.SpawnError(description: "mkdtemp failed") }
        base = String(cString: made)
        chmod(base, 0o755)
        directory = base + "/ws"
        probeName = "p" + String(UInt64.random(in: 0...UInt64.max), radix: 16).prefix(10)
        secret = base + "/secret"
        victim = base + "/victim"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        // The sandbox maps its user to an unprivileged host uid, which must be able to write here.
        chmod(directory, 0o777)
        try Data(secretContent.utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        try Data(victimContent.utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.copyItem(atPath: try ProbeBinary.path(), toPath: probePath)
        chmod(probePath, 0o755)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    /// The probe's host path inside the workspace.
    var probePath: String { directory + "/" + probeName }

    /// The probe's path as the sandbox sees it.
    var probeInside: String { "/workspace/" + probeName }

    /// Plants `name -> target` in the workspace from the host side.
    func plantLink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: target)
    }

    /// Whether the secret and the victim still hold exactly what the test wrote.
    var hostFilesIntact: Bool {
        (try? String(contentsOfFile: secret, encoding: .utf8)) == secretContent
            && (try? String(contentsOfFile: victim, encoding: .utf8)) == victimContent
    }
}
