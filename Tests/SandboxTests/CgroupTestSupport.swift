import Glibc
@testable import Sandbox

/// Spawning and waiting on plain host processes for the cgroup tests (no sandbox involved).
enum CgroupHost {
    static let layout = Cgroups.Layout.detect()
    static var usable: Bool { getuid() == 0 && layout.mode != .none }

    struct Status { var exited: Bool; var code: Int32; var signal: Int32 }

    static func spawn(_ argv: [String]) throws -> pid_t {
        try spawn(argv, actions: nil)
    }

    /// Spawns with stdin and stdout connected to pipes we hold the other ends of.
    static func spawnWithPipe(_ argv: [String]) throws -> (pid_t, (stdin: Int32, stdout: Int32)) {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0 else { throw Failure(errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        for fd in input + output { posix_spawn_file_actions_addclose(&actions, fd) }
        let pid = try spawn(argv, actions: &actions)
        close(input[0]); close(output[1])
        return (pid, (input[1], output[0]))
    }

    static func spawn(_ argv: [String], actions: UnsafePointer<posix_spawn_file_actions_t>?) throws -> pid_t {
        var pid: pid_t = 0
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { env.forEach { free($0) } }
        let status = posix_spawn(&pid, argv[0], actions, nil, &cArgs, &env)
        if status != 0 { throw Failure(errno: status) }
        return pid
    }

    static func wait(_ pid: pid_t) -> Status {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return Status(exited: signal == 0, code: (status >> 8) & 0xff, signal: signal)
    }

    static func writeLine(_ fd: Int32, _ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    static func readLine(_ fd: Int32) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 && byte != 10 { line.append(byte) }
        return String(decoding: line, as: UTF8.self)
    }

    static func memberCount(_ group: Cgroups.RunGroup) -> Int {
        group.directories.map { CgroupFile.pids($0 + "/cgroup.procs").count }.max() ?? 0
    }

    /// A pid with no process: a child we spawned and reaped.
    static func deadPid() throws -> pid_t {
        let pid = try spawn(["/bin/true"])
        _ = wait(pid)
        return pid
    }

    struct Failure: Error { var errno: Int32 }
}

extension CgroupHost {
    /// Spawns with stdout on `stdout`, closing `closing` in the child.
    static func spawnWriting(_ argv: [String], stdout: Int32, closing: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_addclose(&actions, stdout)
        posix_spawn_file_actions_addclose(&actions, closing)
        return try spawn(argv, actions: &actions)
    }
}
