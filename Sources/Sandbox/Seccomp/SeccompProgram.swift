/// A compiled seccomp filter, ready for the launcher to install as the last step before exec.
public struct SeccompProgram: Equatable, Sendable {
    /// A syscall the filter sends to the supervisor (SECCOMP_RET_USER_NOTIF), which answers with `errno`
    /// after recording the attempt.
    public struct AuditedSyscall: Equatable, Sendable {
        public var name: String
        public var number: Int32
        public var errno: Int32
    }

    /// SECCOMP_FILTER_FLAG_LOG: the kernel logs every non-allow action.
    public static let flagLog: UInt32 = 2
    /// SECCOMP_FILTER_FLAG_NEW_LISTENER: seccomp() returns a notification fd for the supervisor.
    public static let flagNewListener: UInt32 = 8

    /// The raw `struct sock_filter` array (8 bytes per instruction, host byte order).
    public var bpf: [UInt8]
    /// Distinct syscalls that can be allowed: unconditionally, or by an argument rule.
    public var allowedSyscallCount: Int
    /// BPF instructions in `bpf`.
    public var instructionCount: Int
    /// Syscalls reported to the supervisor through user notification.
    public var auditedSyscalls: [AuditedSyscall]
    /// Flags for seccomp(SECCOMP_SET_MODE_FILTER, flags, ...): `flagLog`, `flagNewListener`.
    public var installFlags: UInt32

    public init(bpf: [UInt8], allowedSyscallCount: Int, auditedSyscalls: [AuditedSyscall], installFlags: UInt32) {
        self.bpf = bpf
        self.allowedSyscallCount = allowedSyscallCount
        self.instructionCount = bpf.count / 8
        self.auditedSyscalls = auditedSyscalls
        self.installFlags = installFlags
    }

    /// True when the filter needs a listener fd (it has audited syscalls).
    public var needsListener: Bool { installFlags & Self.flagNewListener != 0 }
}

/// A seccomp compilation or cache failure.
public struct SeccompError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong; open for extension.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The policy is wrong (an unknown syscall name); `specError` says where. CLI exit status 2.
        public static let policy = Code(rawValue: "policy")
        /// libseccomp refused a rule or the export.
        public static let libseccomp = Code(rawValue: "libseccomp")
        /// The cache directory could not be prepared or written (compiling still works without it).
        public static let cache = Code(rawValue: "cache")
    }

    public var code: Code
    public var message: String
    /// For `.policy`: the located problem in the policy file.
    public var specError: SpecError?

    public init(code: Code, message: String, specError: SpecError? = nil) {
        self.code = code; self.message = message; self.specError = specError
    }

    public var description: String { specError?.description ?? message }
}

import Specs
