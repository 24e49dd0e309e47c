// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import HostOS

/// A step of a launch, in the order they run; a failure names one.
public struct LaunchStep: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C launcher's step number (enum warden_step), or negative for Swift-side steps.
    public let rawValue: Int32
    /// Wraps a step number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The plan was rejected before anything was started.
    public static let validation = LaunchStep(rawValue: -1)
    /// The caller's `beforeExec` hook threw.
    public static let beforeExec = LaunchStep(rawValue: Int32(WARDEN_STEP_HOOK.rawValue))
    /// Pipes, stack or clone3 in the parent.
    public static let spawn = LaunchStep(rawValue: Int32(WARDEN_STEP_SPAWN.rawValue))
    /// Writing the uid/gid maps.
    public static let idMap = LaunchStep(rawValue: Int32(WARDEN_STEP_ID_MAP.rawValue))
    /// The child moving itself into a cgroup v1 group (`LaunchPlan.cgroupTaskFiles`).
    public static let cgroupAttach = LaunchStep(rawValue: Int32(WARDEN_STEP_CGROUP_ATTACH.rawValue))
    /// Opening a bind source (or creating a /proc) before the root exists.
    public static let bindSource = LaunchStep(rawValue: Int32(WARDEN_STEP_BIND_SOURCE.rawValue))
    /// Creating a mount point in the new root.
    public static let mountTarget = LaunchStep(rawValue: Int32(WARDEN_STEP_MOUNT_TARGET.rawValue))
    /// Attaching a mount in the new root.
    public static let mount = LaunchStep(rawValue: Int32(WARDEN_STEP_MOUNT.rawValue))
    /// pivot_root and the old root's detach.
    public static let pivotRoot = LaunchStep(rawValue: Int32(WARDEN_STEP_PIVOT_ROOT.rawValue))
    /// setgroups, setresgid, setresuid.
    public static let identity = LaunchStep(rawValue: Int32(WARDEN_STEP_IDENTITY.rawValue))
    /// An rlimit.
    public static let resourceLimits = LaunchStep(rawValue: Int32(WARDEN_STEP_RLIMITS.rawValue))
    /// A loopback listener.
    public static let listen = LaunchStep(rawValue: Int32(WARDEN_STEP_LISTEN.rawValue))
    /// chdir to the working directory.
    public static let workingDirectory = LaunchStep(rawValue: Int32(WARDEN_STEP_CHDIR.rawValue))
    /// Moving the listed descriptors into place.
    public static let descriptors = LaunchStep(rawValue: Int32(WARDEN_STEP_FDS.rawValue))
    /// Installing the seccomp filter.
    public static let seccomp = LaunchStep(rawValue: Int32(WARDEN_STEP_SECCOMP.rawValue))
    /// execve of the program.
    public static let execve = LaunchStep(rawValue: Int32(WARDEN_STEP_EXECVE.rawValue))

    /// Every step the C launcher knows, in order (for step timings).
    public static var all: [LaunchStep] {
        (1..<Int32(WARDEN_STEP_COUNT.rawValue)).map { LaunchStep(rawValue: $0) }
    }

    /// The step's name, such as "execve" or "bind source".
    public var description: String {
        switch self {
        case .validation: "plan validation"
        default: String(cString: warden_step_name(rawValue))
        }
    }
}

/// Why a sandboxed process could not be started. Whatever was started has been killed and reaped.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure (extensible: new codes do not break callers).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable { case invalidPlan, setupFailed, execFailed, hookFailed }
        private let kind: Kind
        /// The plan is malformed; nothing was started (a usage/configuration error).
        public static let invalidPlan = Code(kind: .invalidPlan)
        /// A namespace, mount, credential or seccomp step failed.
        public static let setupFailed = Code(kind: .setupFailed)
        /// execve failed (missing binary, not executable, bad format).
        public static let execFailed = Code(kind: .execFailed)
        /// The supervisor's `beforeExec` hook threw.
        public static let hookFailed = Code(kind: .hookFailed)
        public var description: String { "\(kind)" }
    }

    /// The kind of failure.
    public var code: Code
    /// The step that failed.
    public var step: LaunchStep
    /// The errno of the failed system call, if one failed.
    public var errno: Errno?
    /// What the step was working on: the mount entry, the executable, the hook's error.
    public var detail: String
    /// The process that was started and has been killed and reaped, if any.
    public var pid: Int32?

    /// A failure of `step` with `errno`.
    public init(step: LaunchStep, errno: Errno?, detail: String = "", pid: Int32? = nil) {
        self.step = step
        self.errno = errno
        self.detail = detail
        self.pid = pid
        switch step {
        case .validation: code = .invalidPlan
        case .beforeExec: code = .hookFailed
        case .execve: code = .execFailed
        default: code = .setupFailed
        }
    }

    static func invalid(_ detail: String) -> LaunchError {
        LaunchError(step: .validation, errno: nil, detail: detail)
    }

    /// "sandbox setup failed at bind source (mount[2] bind /nope -> /data): No such file or directory (ENOENT)".
    public var description: String {
        var text = code == .invalidPlan ? "invalid launch plan" : "sandbox setup failed at \(step)"
        if !detail.isEmpty { text += code == .invalidPlan ? ": \(detail)" : " (\(detail))" }
        if let errno { text += ": \(errno)" }
        return text
    }
}
