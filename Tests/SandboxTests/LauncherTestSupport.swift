// SPDX-License-Identifier: Apache-2.0
// Helpers for the launcher tests: run a command in a real sandbox and collect what it printed.
import Foundation
import Glibc
import HostOS
import Sandbox

/// What a sandboxed command printed and how it ended.
struct SandboxOutput {
    var status: TerminationStatus
    var stdout: String
    var stderr: String
}

enum LauncherFixture {
    /// A plan for `/bin/sh -c script` on the standard root.
    static func shell(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> LaunchPlan {
        LaunchPlan(executable: "/bin/sh", arguments: ["sh", "-c", script], environment: environment)
    }

    /// Launches `plan` with stdout and stderr captured, waits, and reaps.
    static func run(_ plan: LaunchPlan, beforeExec: (Int32) throws -> Void = { _ in }) throws -> SandboxOutput {
        var plan = plan
        let out = try FileDescriptor.pipe(), err = try FileDescriptor.pipe()
        plan.standardOutput = out.writeEnd
        plan.standardError = err.writeEnd
        let process: SandboxedProcess
        do {
            process = try Launcher.launch(plan, beforeExec: beforeExec)
        } catch {
            for fd in [out.readEnd, out.writeEnd, err.readEnd, err.writeEnd] { try? fd.close() }
            throw error
        }
        try out.writeEnd.close()
        try err.writeEnd.close()
        let stdout = try out.readEnd.readAll(limit: 1 << 20)
        let stderr = try err.readEnd.readAll(limit: 1 << 20)
        try out.readEnd.close()
        try err.readEnd.close()
        let status = try process.wait()
        process.closeDescriptors()
        return SandboxOutput(status: status, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Launches `plan` blocked on reading stdin, runs `inspect` on it from the host, then lets it exit.
    static func inspectRunning(_ plan: LaunchPlan, _ inspect: (SandboxedProcess) throws -> Void) throws {
        var plan = plan
        let input = try FileDescriptor.pipe()
        plan.standardInput = input.readEnd
        let process = try Launcher.launch(plan)
        try input.readEnd.close()
        defer {
            try? input.writeEnd.close()   // EOF: `read` returns and the shell exits
            _ = try? process.wait()
            process.closeDescriptors()
        }
        try inspect(process)
    }

    /// The `Key:` line of /proc/PID/status, value only.
    static func status(_ pid: Int32, _ key: String) throws -> String {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return ""
    }

    /// Whether `pid` is gone: no /proc entry, or a zombie that is not ours to reap.
    static func isGone(_ pid: Int32) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = text.lastIndex(of: ")") else { return true }
        return text[text.index(close, offsetBy: 2)] == "Z"
    }

    /// A fresh directory under /tmp that the sandbox's unprivileged uid may write.
    static func scratchDirectory() throws -> String {
        let path = "/tmp/warden-launcher-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o777)
        return path
    }

    /// A classic-BPF program: `ret action` for each listed syscall number, otherwise ALLOW.
    static func filter(_ actions: [(syscall: UInt32, action: UInt32)]) -> [UInt8] {
        var program: [(UInt16, UInt8, UInt8, UInt32)] = [(0x20, 0, 0, 0)]   // ld [nr]
        for (syscall, action) in actions {
            program.append((0x15, 0, 1, syscall))                            // jeq nr, 0, +1
            program.append((0x06, 0, 0, action))                             // ret action
        }
        program.append((0x06, 0, 0, 0x7FFF_0000))                            // ret ALLOW
        var bytes: [UInt8] = []
        for (code, jt, jf, k) in program {
            withUnsafeBytes(of: code.littleEndian) { bytes += $0 }
            bytes += [jt, jf]
            withUnsafeBytes(of: k.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    #if arch(x86_64)
    static let mkdirSyscalls: [UInt32] = [83, 258]   // mkdir, mkdirat
    #elseif arch(arm64)
    static let mkdirSyscalls: [UInt32] = [34]        // mkdirat
    #endif
}
