// SPDX-License-Identifier: Apache-2.0
import Glibc

/// The new root's mount list, applied in order on an empty tmpfs (read-only by default).
///
/// Independent of `Specs.Policy`: the supervisor maps a policy's filesystem view onto this.
public struct MountPlan: Sendable, Hashable {
    /// One mount of the list. Targets are absolute paths inside the sandbox.
    public enum Entry: Sendable, Hashable {
        /// A recursive bind of the host's `source`; nosuid and nodev always.
        case bind(source: String, target: String, readOnly: Bool, noExec: Bool = false)
        /// A tmpfs owned by the agent; `sizeBytes` 0 means the kernel default (half of RAM).
        case tmpfs(target: String, sizeBytes: UInt64, mode: UInt32 = 0o1777, readOnly: Bool = false)
        /// A fresh procfs of the sandbox's pid namespace.
        case proc(target: String)
        /// A minimal /dev: null, zero, full, random, urandom, the fd links, and a /dev/shm tmpfs if asked.
        case dev(target: String, sharedMemory: Bool = false)
        /// A symbolic link at `target` whose contents are `pointingTo`.
        case symlink(target: String, pointingTo: String)
        /// An empty directory.
        case directory(target: String, mode: UInt32 = 0o755)

        /// Where the entry appears inside the sandbox.
        public var target: String {
            switch self {
            case .bind(_, let target, _, _), .tmpfs(let target, _, _, _), .proc(let target), .dev(let target, _),
                 .symlink(let target, _), .directory(let target, _):
                target
            }
        }
    }

    /// The entries, in the order they are applied.
    public var entries: [Entry]
    /// Whether the tmpfs root itself is read-only once the entries are in place.
    public var rootReadOnly: Bool

    /// A plan with `entries` on a root that is read-only unless `rootReadOnly` is false.
    public init(_ entries: [Entry] = [], rootReadOnly: Bool = true) {
        self.entries = entries
        self.rootReadOnly = rootReadOnly
    }

    /// Adds a read-only bind of `source` at `target` (default: the same path).
    public mutating func bindReadOnly(_ source: String, at target: String? = nil, noExec: Bool = false) {
        entries.append(.bind(source: source, target: target ?? source, readOnly: true, noExec: noExec))
    }

    /// Adds a writable bind of `source` at `target` (default: the same path).
    public mutating func bindReadWrite(_ source: String, at target: String? = nil, noExec: Bool = false) {
        entries.append(.bind(source: source, target: target ?? source, readOnly: false, noExec: noExec))
    }

    /// Adds a tmpfs of `sizeBytes` at `target`.
    public mutating func tmpfs(at target: String, sizeBytes: UInt64, mode: UInt32 = 0o1777) {
        entries.append(.tmpfs(target: target, sizeBytes: sizeBytes, mode: mode))
    }

    /// Adds a symlink at `target` pointing to `destination` (such as /bin → usr/bin).
    public mutating func symlink(at target: String, pointingTo destination: String) {
        entries.append(.symlink(target: target, pointingTo: destination))
    }

    /// Adds a fresh /proc.
    public mutating func proc(at target: String = "/proc") { entries.append(.proc(target: target)) }

    /// Adds a minimal /dev.
    public mutating func dev(at target: String = "/dev", sharedMemory: Bool = false) {
        entries.append(.dev(target: target, sharedMemory: sharedMemory))
    }

    /// Adds the per-run workspace: `hostPath` bound read-write at `target`.
    public mutating func workspace(_ hostPath: String, at target: String = "/workspace") {
        bindReadWrite(hostPath, at: target)
    }

    /// The host's system directories read-only: /usr bound, and /bin, /sbin, /lib, /lib64 (and the
    /// multiarch lib32/libx32 when present) as the host has them: symlinks on merged-/usr systems
    /// such as Debian 12, read-only binds otherwise.
    public mutating func hostSystem() {
        bindReadOnly("/usr")
        for name in ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] {
            var buffer = [CChar](repeating: 0, count: 4096)
            let length = readlink(name, &buffer, buffer.count - 1)
            if length > 0 {
                symlink(at: name, pointingTo: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            } else if access(name, F_OK) == 0 {
                bindReadOnly(name)
            }
        }
    }

    /// The common agent root: host system directories read-only, /proc, /dev, and a /tmp tmpfs.
    public static func standard(tmpSizeBytes: UInt64 = 64 << 20) -> MountPlan {
        var plan = MountPlan()
        plan.hostSystem()
        plan.proc()
        plan.dev()
        plan.tmpfs(at: "/tmp", sizeBytes: tmpSizeBytes)
        return plan
    }
}
