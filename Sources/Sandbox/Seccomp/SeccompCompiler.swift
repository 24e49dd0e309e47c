import CSeccomp
import Glibc
import Specs

/// Compiles a policy's seccomp section with libseccomp into raw BPF for the launcher.
///
/// The filter admits the x86_64 ABI only: libseccomp's native-arch filter sends i386 calls and
/// x32 calls (x86_64 arch token, syscall number with bit 30 set) to the bad-arch action. Every
/// syscall name is resolved for x86_64 first, so a typo or an i386-only name (`chown32`) is an
/// error at its position in the policy rather than a rule libseccomp silently drops.
public enum SeccompCompiler {
    /// Compiles `profile` into BPF.
    public static func compile(_ profile: SeccompProfile) throws(SeccompError) -> SeccompProgram {
        let resolved = try ResolvedProfile(profile)
        guard let context = seccomp_init(action(profile.defaultAction)) else {
            throw SeccompError(code: .libseccomp, message: "seccomp_init failed")
        }
        defer { seccomp_release(context) }
        try check(seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, action(profile.badArchAction)), "set bad-arch action")
        // Level 2 lays the syscall dispatch out as a binary tree: O(log n) instructions per call.
        try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2), "enable binary-tree optimisation")
        var builder = RuleBuilder(context: context, defaultAction: action(profile.defaultAction))
        try builder.addAll(resolved)
        let bpf = try export(context)
        var flags: UInt32 = 0
        if profile.logDenials { flags |= SeccompProgram.flagLog }
        if !resolved.audited.isEmpty { flags |= SeccompProgram.flagNewListener }
        return SeccompProgram(bpf: bpf, allowedSyscallCount: resolved.allowedCount,
                              auditedSyscalls: resolved.audited, installFlags: flags)
    }

    /// libseccomp's action word for `action`.
    static func action(_ action: SeccompProfile.Action) -> UInt32 {
        switch action {
        case .allow: return warden_scmp_act_allow()
        case .errno(let code): return warden_scmp_act_errno(UInt16(clamping: code))
        case .killProcess: return warden_scmp_act_kill_process()
        case .killThread: return warden_scmp_act_kill_thread()
        case .trap: return warden_scmp_act_trap()
        case .log: return warden_scmp_act_log()
        }
    }

    static func check(_ result: Int32, _ what: @autoclosure () -> String) throws(SeccompError) {
        guard result >= 0 else {
            throw SeccompError(code: .libseccomp, message: "libseccomp: \(what()): \(String(cString: strerror(-result)))")
        }
    }

    /// Writes the filter to a memfd with `seccomp_export_bpf` and reads it back.
    static func export(_ context: scmp_filter_ctx) throws(SeccompError) -> [UInt8] {
        let fd = warden_memfd_cloexec("warden-seccomp")
        guard fd >= 0 else { throw SeccompError(code: .libseccomp, message: "memfd_create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try check(seccomp_export_bpf(context, fd), "export BPF")
        let size = lseek(fd, 0, SEEK_CUR)
        guard size > 0, size % 8 == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw SeccompError(code: .libseccomp, message: "exported filter has an invalid size \(size)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard read == size else { throw SeccompError(code: .libseccomp, message: "short read of exported filter") }
        return bytes
    }

    /// libseccomp's version, "2.5.4".
    public static var libseccompVersion: String {
        guard let version = seccomp_version() else { return "unknown" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}

/// Adds a resolved profile's rules to a libseccomp context.
struct RuleBuilder {
    let context: scmp_filter_ctx
    let defaultAction: UInt32

    mutating func addAll(_ profile: ResolvedProfile) throws(SeccompError) {
        for syscall in profile.unconditional { try add(warden_scmp_act_allow(), syscall, []) }
        for (syscall, action) in profile.fixed { try add(action, syscall, []) }
        for syscall in profile.audited {
            let ref = ResolvedProfile.Syscall(name: syscall.name, number: syscall.number, origin: .none)
            try add(warden_scmp_act_notify(), ref, [])
        }
        for rule in profile.conditional { try add(rule.action, rule.syscall, rule.comparisons) }
    }

    /// One rule; rules whose action is the default action are implied and skipped (libseccomp refuses them).
    func add(_ action: UInt32, _ syscall: ResolvedProfile.Syscall, _ comparisons: [scmp_arg_cmp]) throws(SeccompError) {
        if action == defaultAction { return }
        let result = comparisons.withUnsafeBufferPointer { buffer in
            seccomp_rule_add_array(context, action, syscall.number, UInt32(buffer.count), buffer.baseAddress)
        }
        guard result >= 0 else {
            let problem = String(cString: strerror(-result))
            throw SeccompError(code: .libseccomp, message: "libseccomp refused a rule for \(syscall.name): \(problem)",
                               specError: syscall.origin.error("libseccomp refused this rule: \(problem)"))
        }
    }
}
