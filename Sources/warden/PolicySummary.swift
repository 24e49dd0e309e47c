import Sandbox
import Specs

/// What `warden policy check` reports about a policy, as text for people and JSON for machines.
struct PolicySummary {
    let policy: Policy
    let program: SeccompProgram

    var deniedCount: Int { policy.seccomp.deny.reduce(0) { $0 + $1.syscalls.count } }

    var mountLines: [String] {
        let fs = policy.filesystem
        var lines = fs.binds.map { bind in
            "\(bind.target)  bind \(bind.source) \(bind.readOnly ? "ro" : "rw")"
        }
        lines += fs.tmpfs.map { "\($0.path)  tmpfs \(SizeText.format($0.sizeBytes)) mode \(String($0.mode, radix: 8))" }
        if let workspace = fs.workspace { lines.append("\(workspace.path)  workspace rw (per run)") }
        lines += fs.symlinks.map { "\($0.path) -> \($0.target)" }
        return lines
    }

    var limitsText: String {
        let l = policy.limits
        return "memory \(SizeText.format(l.memoryBytes)), pids \(l.pids), cpus \(decimal(Int64(l.cpuMillis))), "
            + "wall \(decimal(l.wallMilliseconds)) s, open files \(l.openFiles), file size \(SizeText.format(l.fileSizeBytes))"
    }

    func decimal(_ thousandths: Int64) -> String {
        let whole = thousandths / 1000, fraction = thousandths % 1000
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    var text: String {
        let seccomp = policy.seccomp
        let audited = program.auditedSyscalls.map { "\($0.name) (\(SeccompProfile.Action.errno($0.errno)))" }
        let groups = seccomp.allow.map { "\($0.purpose) \($0.syscalls.count)" }.joined(separator: ", ")
        let ruleNames = Array(Set(seccomp.rules.map(\.syscall.name))).sorted().joined(separator: ", ")
        var lines: [String] = []
        lines.append("\(policy.file): ok, policy \"\(policy.name)\"")
        lines.append("  seccomp: \(program.allowedSyscallCount) syscalls allowed, \(program.instructionCount) BPF instructions")
        lines.append("    default \(seccomp.defaultAction), foreign ABIs \(seccomp.badArchAction), x32 denied")
        lines.append("    groups: " + groups)
        lines.append("    denied explicitly: \(deniedCount); argument rules: \(seccomp.rules.count) (\(ruleNames))")
        lines.append("    audited: " + (audited.isEmpty ? "none" : audited.joined(separator: ", ")))
        lines.append("  network: \(policy.network.rawValue) (loopback only)")
        lines.append("  limits: \(limitsText)")
        lines.append("  mounts:")
        lines += mountLines.map { "    " + $0 }
        lines.append("  broker:" + (policy.broker == nil ? " none (the agent gets no model or tool endpoint)" : ""))
        lines += (policy.broker?.summaryLines ?? []).map { "    " + $0 }
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        let l = policy.limits
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        func u64(_ value: UInt64) -> JSONValue { .number(JSONNumber(value)) }
        var mounts: [JSONValue] = []
        for bind in policy.filesystem.binds {
            mounts.append(.object(["type": .string("bind"), "source": .string(bind.source), "target": .string(bind.target),
                                   "readOnly": .bool(bind.readOnly)]))
        }
        for tmpfs in policy.filesystem.tmpfs {
            mounts.append(.object(["type": .string("tmpfs"), "target": .string(tmpfs.path), "sizeBytes": u64(tmpfs.sizeBytes),
                                   "mode": .string(String(tmpfs.mode, radix: 8))]))
        }
        if let workspace = policy.filesystem.workspace {
            mounts.append(.object(["type": .string("workspace"), "target": .string(workspace.path), "readOnly": .bool(false)]))
        }
        for link in policy.filesystem.symlinks {
            mounts.append(.object(["type": .string("symlink"), "target": .string(link.path), "linkTo": .string(link.target)]))
        }
        return .object([
            "file": .string(policy.file),
            "name": .string(policy.name),
            "valid": .bool(true),
            "seccomp": .object([
                "allowedSyscalls": int(program.allowedSyscallCount),
                "bpfInstructions": int(program.instructionCount),
                "defaultAction": .string(policy.seccomp.defaultAction.description),
                "badArchAction": .string(policy.seccomp.badArchAction.description),
                "deniedSyscalls": int(deniedCount),
                "argumentRules": int(policy.seccomp.rules.count),
                "audited": .array(program.auditedSyscalls.map { .object(["name": .string($0.name), "errno": int(Int($0.errno))]) }),
                "installFlags": int(Int(program.installFlags)),
            ]),
            "network": .string(policy.network.rawValue),
            "limits": .object([
                "memoryBytes": u64(l.memoryBytes), "pids": int(l.pids), "cpuMillis": int(l.cpuMillis),
                "wallMilliseconds": .number(JSONNumber(l.wallMilliseconds)), "openFiles": int(l.openFiles),
                "fileSizeBytes": u64(l.fileSizeBytes),
            ]),
            "mounts": .array(mounts),
            "broker": policy.broker.map { broker in
                .object([
                    "port": int(Int(broker.port)),
                    "models": .array(broker.models.map { .object(["name": .string($0.name), "maxTokensPerRequest": int($0.maxTokensPerRequest)]) }),
                    "tools": .array(broker.tools.map { .string($0.name) }),
                    "requestsPerMinute": broker.rateLimits.requestsPerMinute.map(int) ?? .null,
                    "tokensPerMinute": broker.rateLimits.tokensPerMinute.map(int) ?? .null,
                    "tokenBudget": broker.tokenBudget.map(int) ?? .null,
                    "maxConcurrent": int(broker.maxConcurrent),
                ])
            } ?? .null,
        ])
    }
}
