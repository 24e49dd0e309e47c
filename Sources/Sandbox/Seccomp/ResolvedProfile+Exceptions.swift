import CSeccomp
import Specs

/// Exceptions: denying a few argument values of an otherwise allowed syscall.
///
/// libseccomp drops conditional rules on a syscall that also has an unconditional allow (the allow
/// wins), so "allow ioctl except TIOCSTI" cannot be written as allow + deny. Instead the allow is
/// replaced by its complement: with mask M and excluded values V, every x with (x & M) not in V is
/// covered by one masked-equality rule per branch of the binary trie of V over M's bits, high to
/// low. That is at most |V| x popcount(M) rules (34 for two 32-bit ioctl numbers), all checked only
/// after the syscall number matched, and every value outside V stays allowed, bit for bit.
extension ResolvedProfile {
    static func exceptionRules(_ syscall: Syscall, _ rules: [SeccompProfile.ArgumentRule]) throws(SeccompError) -> [Rule] {
        guard let first = rules.first?.conditions.first else { return [] }
        let argument = UInt32(first.argument)
        let mask = first.op == .maskedEqual ? first.mask : UInt64.max
        var result: [Rule] = []
        var excluded: [UInt64] = []
        for rule in rules {
            guard let condition = rule.conditions.first else { continue }
            let value = condition.value & mask
            excluded.append(value)
            result.append(Rule(syscall: syscall, action: SeccompCompiler.action(rule.action),
                               comparisons: [warden_scmp_arg(argument, SCMP_CMP_MASKED_EQ, mask, value)]))
        }
        for pattern in complement(of: excluded, under: mask) {
            result.append(Rule(syscall: syscall, action: warden_scmp_act_allow(),
                               comparisons: [warden_scmp_arg(argument, SCMP_CMP_MASKED_EQ, pattern.mask, pattern.value)]))
        }
        return result
    }

    /// Masked-equality patterns that together match exactly the values whose masked bits are not in `excluded`.
    static func complement(of excluded: [UInt64], under mask: UInt64) -> [(mask: UInt64, value: UInt64)] {
        let bits = (0..<64).reversed().filter { mask & (1 << UInt64($0)) != 0 }.map { UInt64(1) << UInt64($0) }
        var patterns: [(mask: UInt64, value: UInt64)] = []
        func walk(_ level: Int, _ prefixMask: UInt64, _ prefixValue: UInt64, _ candidates: [UInt64]) {
            if candidates.isEmpty { patterns.append((prefixMask, prefixValue)); return }
            guard level < bits.count else { return }
            let bit = bits[level]
            walk(level + 1, prefixMask | bit, prefixValue, candidates.filter { $0 & bit == 0 })
            walk(level + 1, prefixMask | bit, prefixValue | bit, candidates.filter { $0 & bit != 0 })
        }
        walk(0, 0, 0, Array(Set(excluded.map { $0 & mask })))
        return patterns
    }
}
