import CSeccomp
import Specs

/// A seccomp profile with every name resolved to an x86_64 syscall number and every rule turned
/// into libseccomp comparisons, including the complement rules that implement exceptions.
struct ResolvedProfile {
    struct Syscall {
        let name: String
        let number: Int32
        let origin: SourceRef
    }

    struct Rule {
        let syscall: Syscall
        let action: UInt32
        let comparisons: [scmp_arg_cmp]
    }

    /// Allowed with no conditions.
    var unconditional: [Syscall] = []
    /// Denied with a fixed action.
    var fixed: [(Syscall, UInt32)] = []
    /// Sent to the supervisor.
    var audited: [SeccompProgram.AuditedSyscall] = []
    /// Argument rules, exceptions and their complements included.
    var conditional: [Rule] = []
    /// Distinct syscalls that some rule may allow.
    var allowedCount = 0

    init(_ profile: SeccompProfile) throws(SeccompError) {
        var exceptions: [String: [SeccompProfile.ArgumentRule]] = [:]
        let allowedNames = Set(profile.allowedNames)
        for rule in profile.rules where allowedNames.contains(rule.syscall.name) {
            exceptions[rule.syscall.name, default: []].append(rule)
        }
        var allowed = Set<Int32>()
        for group in profile.allow {
            for entry in group.syscalls {
                let syscall = try Self.resolve(entry)
                allowed.insert(syscall.number)
                if let rules = exceptions[entry.name] {
                    conditional += try Self.exceptionRules(syscall, rules)
                } else {
                    unconditional.append(syscall)
                }
            }
        }
        for denial in profile.deny {
            for entry in denial.syscalls { fixed.append((try Self.resolve(entry), SeccompCompiler.action(denial.action))) }
        }
        for entry in profile.audit {
            for name in entry.syscalls {
                let syscall = try Self.resolve(name)
                audited.append(.init(name: syscall.name, number: syscall.number, errno: entry.errno))
            }
        }
        for rule in profile.rules where !allowedNames.contains(rule.syscall.name) {
            let syscall = try Self.resolve(rule.syscall)
            if rule.action == .allow { allowed.insert(syscall.number) }
            conditional.append(Rule(syscall: syscall, action: SeccompCompiler.action(rule.action),
                                    comparisons: rule.conditions.map(Self.comparison)))
        }
        allowedCount = allowed.count
    }

    static func comparison(_ condition: SeccompProfile.Condition) -> scmp_arg_cmp {
        let op: scmp_compare
        switch condition.op {
        case .equal: op = SCMP_CMP_EQ
        case .notEqual: op = SCMP_CMP_NE
        case .less: op = SCMP_CMP_LT
        case .lessOrEqual: op = SCMP_CMP_LE
        case .greater: op = SCMP_CMP_GT
        case .greaterOrEqual: op = SCMP_CMP_GE
        case .maskedEqual:
            return warden_scmp_arg(UInt32(condition.argument), SCMP_CMP_MASKED_EQ, condition.mask, condition.value)
        }
        return warden_scmp_arg(UInt32(condition.argument), op, condition.value, 0)
    }

    /// Resolves a name for x86_64, refusing unknown names and names that exist only on other ABIs.
    static func resolve(_ syscall: SeccompProfile.Syscall) throws(SeccompError) -> Syscall {
        let number = seccomp_syscall_resolve_name_arch(warden_scmp_arch_x86_64(), syscall.name)
        if number == __NR_SCMP_ERROR {
            var message = "unknown syscall \"\(syscall.name)\" (libseccomp \(SeccompCompiler.libseccompVersion), x86_64)"
            if let hint = Spelling.suggestion(for: syscall.name, among: SyscallNames.x86_64) { message += "; did you mean \"\(hint)\"?" }
            throw SeccompError(code: .policy, message: message, specError: syscall.origin.error(message, code: .unknownSyscall))
        }
        if number < 0 {
            let message = "\"\(syscall.name)\" does not exist on x86_64 (it is a 32-bit-only syscall)"
            throw SeccompError(code: .policy, message: message, specError: syscall.origin.error(message, code: .unknownSyscall))
        }
        return Syscall(name: syscall.name, number: number, origin: syscall.origin)
    }
}

/// The x86_64 syscall names libseccomp knows, for "did you mean" hints (built only on error).
enum SyscallNames {
    static var x86_64: [String] {
        var names: [String] = []
        for number in 0..<600 {
            guard let name = seccomp_syscall_resolve_num_arch(warden_scmp_arch_x86_64(), Int32(number)) else { continue }
            names.append(String(cString: name))
            free(name)
        }
        return names
    }
}

import Glibc
