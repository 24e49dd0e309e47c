/// A policy's seccomp section: what the filter does with each system call.
///
/// JSON shape (every key but `allow` optional):
/// ```
/// "seccomp": {
///   "defaultAction": {"errno": "EPERM"},          // or "kill_process", "kill_thread", "trap", "log", "allow"
///   "badArchAction": "kill_process",              // syscalls of a foreign ABI (i386, x32)
///   "allow": {"files": ["read", ...], "memory": [...]},   // grouped by purpose, for reviewers
///   "deny": [{"errno": "ENOSYS", "syscalls": ["clone3"]}, {"action": "kill_process", "syscalls": [...]}],
///   "audit": [{"errno": "EPERM", "syscalls": ["ptrace"]}],  // denied, and reported to the supervisor
///   "rules": [{"syscall": "socket", "action": "allow", "when": [{"arg": 0, "op": "==", "value": "AF_UNIX"}]}],
///   "logDenials": false
/// }
/// ```
/// Syscall names are checked against libseccomp's resolver by the compiler (Sandbox), which reports
/// unknown names at their source position through `Syscall.origin`.
public struct SeccompProfile: Sendable {
    /// What the filter does with a matching call.
    public enum Action: Equatable, Sendable, CustomStringConvertible {
        case allow
        case errno(Int32)
        case killProcess
        case killThread
        case trap
        case log

        public var description: String {
            switch self {
            case .allow: return "allow"
            case .errno(let code): return "errno \(SeccompConstants.errnoName(code))"
            case .killProcess: return "kill_process"
            case .killThread: return "kill_thread"
            case .trap: return "trap"
            case .log: return "log"
            }
        }
    }

    /// A syscall name and where the policy wrote it.
    public struct Syscall: Sendable {
        public let name: String
        public let origin: SourceRef
        public init(name: String, origin: SourceRef = .none) { self.name = name; self.origin = origin }
    }

    /// Syscalls allowed unconditionally, under a purpose heading ("files", "memory", ...).
    public struct AllowGroup: Sendable {
        public let purpose: String
        public let syscalls: [Syscall]
    }

    /// Syscalls answered with a fixed action (an errno, or a kill).
    public struct Denial: Sendable {
        public let action: Action
        public let syscalls: [Syscall]
    }

    /// Syscalls denied with `errno` and reported to the supervisor (seccomp user notification).
    public struct Audit: Sendable {
        public let errno: Int32
        public let syscalls: [Syscall]
    }

    /// A comparison on one syscall argument.
    public struct Condition: Equatable, Sendable {
        public enum Operator: String, Sendable, CaseIterable {
            case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
            case maskedEqual = "masked=="
        }
        /// Argument index, 0...5.
        public let argument: Int
        public let op: Operator
        public let value: UInt64
        /// For `masked==`: the argument is ANDed with `mask` before comparing with `value`.
        public let mask: UInt64
    }

    /// `action` for `syscall` when all `conditions` hold; calls matching no rule get the default action.
    public struct ArgumentRule: Sendable {
        public let syscall: Syscall
        public let action: Action
        public let conditions: [Condition]
    }

    public var defaultAction: Action
    public var badArchAction: Action
    public var allow: [AllowGroup]
    public var deny: [Denial]
    public var audit: [Audit]
    public var rules: [ArgumentRule]
    /// Ask the kernel to log every non-allow action (SECCOMP_FILTER_FLAG_LOG) for audit attribution.
    public var logDenials: Bool
    /// The section in canonical JSON (sorted keys, no whitespace): the compiled-filter cache key.
    public var canonicalJSON: [UInt8]

    /// Every unconditionally allowed syscall name, in policy order.
    public var allowedNames: [String] { allow.flatMap { $0.syscalls.map(\.name) } }

    /// Every audited syscall name with the errno the supervisor answers with.
    public var auditedNames: [(name: String, errno: Int32)] {
        audit.flatMap { entry in entry.syscalls.map { ($0.name, entry.errno) } }
    }
}
