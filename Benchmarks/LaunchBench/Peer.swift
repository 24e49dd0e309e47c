// SPDX-License-Identifier: Apache-2.0
// The peer for a paired comparison: bubblewrap with the same mount set and the same seccomp bytes,
// started with posix_spawn and reaped, alternating with Warden's launches so both see the same load.
import Glibc
import HostOS

struct BubblewrapPeer {
    let arguments: [String]
    let filter: FileDescriptor

    init?(workspace: String, filter bytes: [UInt8]) {
        guard access("/usr/bin/bwrap", X_OK) == 0,
              let memory = try? FileDescriptor.memfd(name: "bwrap-seccomp"),
              (try? memory.writeAll(bytes)) != nil
        else { return nil }
        filter = memory
        arguments = [
            "/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--bind", workspace, "/workspace", "--chdir", "/workspace", "--seccomp", "3", "/bin/true",
        ]
    }

    /// One run: spawn with the filter on fd 3 (rewound), wait; milliseconds, or nil if it failed.
    func run() -> Double? {
        guard lseek(filter.rawValue, 0, SEEK_SET) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, filter.rawValue, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let start = nowNanoseconds()
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let end = nowNanoseconds()
        return status == 0 ? Double(end - start) / 1e6 : nil
    }
}
