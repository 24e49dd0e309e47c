import CSeccomp
import Foundation
import Glibc
import Sandbox
import Specs

/// Shared pieces of the seccomp tests: the package root, policy loading, and installing a program.
enum SeccompTestSupport {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func policy(_ name: String) throws -> Policy {
        try Policy.load(path: root.appendingPathComponent("Policies/\(name).json").path)
    }

    /// x86_64 syscall numbers the tests probe with.
    enum NR {
        static let ioctl = 16, getpid = 39, socket = 41, ptrace = 101, personality = 135, prctl = 157
        static let mount = 165, keyctl = 250, unshare = 272, seccomp = 317, clone3 = 435
    }

    /// A raw syscall: the result, or -errno.
    static func call(_ nr: Int, _ a0: UInt = 0, _ a1: UInt = 0, _ a2: UInt = 0) -> Int {
        let result = warden_raw_syscall6(nr, a0, a1, a2, 0, 0, 0)
        return result < 0 ? -Int(errno) : result
    }

    /// Sets no_new_privs and installs `program` on the calling thread (in the child of an exit test).
    static func install(_ program: SeccompProgram) -> Bool {
        guard call(NR.prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1) == 0 else { return false }
        var header = [UInt8](repeating: 0, count: 16) // struct sock_fprog { u16 len; sock_filter *filter; }
        let result = program.bpf.withUnsafeBytes { bpf in
            header.withUnsafeMutableBytes { fprog -> Int in
                fprog.storeBytes(of: UInt16(program.instructionCount), toByteOffset: 0, as: UInt16.self)
                fprog.storeBytes(of: UInt(bitPattern: bpf.baseAddress), toByteOffset: 8, as: UInt.self)
                return call(NR.seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, UInt(program.installFlags), UInt(bitPattern: fprog.baseAddress))
            }
        }
        return result >= 0
    }

    /// A fresh private directory for cache tests.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-seccomp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }
}
