import Foundation
import Glibc

/// Spawns a process with posix_spawn and collects its output with bounded memory.
///
/// WardenTool.runProcess (Foundation's Process) closes every descriptor but stdio in the child and
/// keeps all output; the escape suite needs the opposite on both counts: descriptors the test
/// opened without O_CLOEXEC must reach `warden` (the sandbox must close them), stdin may be a pty,
/// and a probe may print gigabytes. It also samples the process's peak RSS while it runs.
struct HostSpawn {
    /// What a process wrote and how it ended.
    struct Outcome {
        var pid: Int32
        /// Exit code when the process exited; nil when a signal ended it.
        var exitCode: Int32?
        var signal: Int32?
        var stdout: BoundedCapture
        var stderr: BoundedCapture
        /// Peak resident set of the process's own memory (VmHWM), in KiB. Not wait4's ru_maxrss:
        /// that keeps the high-water mark of the memory posix_spawn's vfork child shared with the
        /// test process before exec, so it reports the (large) test runner, not the process.
        var maxRSSKiB: Int
        /// The test's own deadline ran out and it killed the process: a hang.
        var killedAtDeadline: Bool
        /// Something still held stdout or stderr open after the process ended (a survivor).
        var pipesOutlivedProcess: Bool
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `executable` with `arguments`; `stdin` defaults to /dev/null.
    static func run(_ executable: String, _ arguments: [String], stdin: Int32? = nil,
                    directory: String? = nil, deadline seconds: Double = 60) throws -> Outcome {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // pipe2 is not visible to Swift (_GNU_SOURCE); no other spawn of ours runs meanwhile.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin ?? devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // posix_spawn_file_actions_addchdir_np is not visible to Swift either: env(1) changes directory.
        let command = directory.map { ["/usr/bin/env", "-C", $0, executable] } ?? [executable]
        let argv: [UnsafeMutablePointer<CChar>?] = (command + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))")
        }
        let out = Drain(fd: outPipe[0]), err = Drain(fd: errPipe[0])
        var outcome = waitWithDeadline(pid: pid, seconds: seconds)
        // The process is gone; its pipes close unless a survivor holds them.
        let drained = out.finished.wait(timeout: .now() + 10) == .success
            && err.finished.wait(timeout: .now() + 10) == .success
        outcome.pipesOutlivedProcess = !drained
        outcome.stdout = out.capture.snapshot()
        outcome.stderr = err.capture.snapshot()
        return outcome
    }

    /// wait4 with WNOHANG until exit or the deadline, then SIGKILL and a blocking wait.
    private static func waitWithDeadline(pid: pid_t, seconds: Double) -> Outcome {
        var status: Int32 = 0
        var usage = rusage()
        let end = Date().addingTimeInterval(seconds)
        var killed = false
        var highWater = 0
        while true {
            // VmHWM only grows, so the last reading before exit is the process's peak.
            highWater = max(highWater, residentHighWaterKiB(pid: pid) ?? 0)
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if !killed && Date() > end {
                kill(pid, SIGKILL)
                killed = true
            }
            usleep(5_000)
        }
        let exited = (status & 0x7f) == 0
        return Outcome(pid: pid, exitCode: exited ? (status >> 8) & 0xff : nil,
                       signal: exited ? nil : status & 0x7f, stdout: BoundedCapture(), stderr: BoundedCapture(),
                       maxRSSKiB: highWater, killedAtDeadline: killed, pipesOutlivedProcess: false)
    }
}

/// VmHWM of a live process from /proc/PID/status, in KiB.
private func residentHighWaterKiB(pid: pid_t) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
}

/// Keeps the first `headLimit` bytes and the last `tailLimit` bytes of a stream, and counts all.
struct BoundedCapture: Sendable {
    var head: [UInt8] = []
    var tail: [UInt8] = []
    var total = 0
    // The head holds a whole --json report, whose captured output warden bounds at 16 MiB.
    static let headLimit = 64 << 20, tailLimit = 256 << 10

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        total += bytes.count
        let room = Self.headLimit - head.count
        if room > 0 {
            head.append(contentsOf: bytes.prefix(room))
            if bytes.count <= room { return }
        }
        tail.append(contentsOf: bytes.suffix(Self.tailLimit))
        if tail.count > 2 * Self.tailLimit { tail.removeFirst(tail.count - Self.tailLimit) }
    }

    /// Every complete line kept (head, then tail when the middle was dropped).
    var lines: [String] {
        let text = String(decoding: head, as: UTF8.self) + "\n" + String(decoding: tail, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    var text: String { String(decoding: head, as: UTF8.self) }
}

/// Reads one pipe to EOF on its own thread.
private final class Drain: @unchecked Sendable {
    let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var kept = BoundedCapture()

    var capture: Drain { self }

    init(fd: Int32) {
        let thread = Thread { [self] in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
            defer { buffer.deallocate(); close(fd); finished.signal() }
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                lock.lock()
                kept.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                lock.unlock()
            }
        }
        thread.start()
    }

    func snapshot() -> BoundedCapture {
        lock.lock()
        defer { lock.unlock() }
        return kept
    }
}
