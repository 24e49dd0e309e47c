import Specs

extension SandboxRun.Request {
    /// A request for one command under `policy` (`warden exec`): the policy's root, limits and
    /// seccomp filter; the environment `defaultEnvironment`; the workspace as working directory.
    public static func command(_ arguments: [String], policy: Policy, workspace: String?) throws(SandboxRun.Error) -> Self {
        var request = Self(arguments: arguments, mounts: mounts(for: policy.filesystem))
        request.workspace = workspace
        request.workspaceTarget = policy.filesystem.workspace?.path
        request.workingDirectory = request.workspaceTarget ?? "/"
        try request.apply(limits: policy.limits, seccomp: policy.seccomp)
        return request
    }

    /// A request for an agent spec (`warden run`): its entrypoint, exact environment, working
    /// directory and code directory (read-only at /agent), under its policy and effective limits.
    public static func agent(_ spec: AgentSpec, workspace: String?) throws(SandboxRun.Error) -> Self {
        var environment: [String: String] = [:]
        for variable in spec.environment { environment[variable.name] = variable.value }
        var request = Self(arguments: spec.entrypoint, environment: environment,
                           mounts: mounts(for: spec.policy.filesystem))
        request.workingDirectory = spec.workingDirectory
        request.codeDirectory = spec.codeDirectory
        request.workspace = workspace
        request.workspaceTarget = spec.policy.filesystem.workspace?.path
        try request.apply(limits: spec.limits, seccomp: spec.policy.seccomp)
        return request
    }

    /// The policy's filesystem view as a launcher mount plan (plus the /proc and /dev every
    /// sandbox gets); the workspace and /agent are added by the run.
    static func mounts(for filesystem: FilesystemPolicy) -> MountPlan {
        MountPlan.policyView(binds: filesystem.binds.map { ($0.source, $0.target, $0.readOnly) },
                             symlinks: filesystem.symlinks.map { ($0.path, $0.target) },
                             tmpfs: filesystem.tmpfs.map { ($0.path, $0.sizeBytes, $0.mode) })
    }

    /// Limits into cgroup limits, rlimits and the timeout; the seccomp profile into BPF (cached on
    /// disk, so a launch does not pay libseccomp's compile).
    mutating func apply(limits: ResourceLimits, seccomp profile: SeccompProfile) throws(SandboxRun.Error) {
        apply(limits: limits)
        let program: SeccompProgram
        do throws(SeccompError) {
            program = try SeccompCompiler.compileCached(profile).program
        } catch {
            throw SandboxRun.Error(.configuration, "seccomp: \(error)")
        }
        try apply(program: program)
    }

    /// The policy's (or spec's) limits as cgroup limits, rlimits and the timeout.
    mutating func apply(limits: ResourceLimits) {
        cgroupLimits = .init(memoryBytes: limits.memoryBytes, pids: limits.pids,
                             cpuCores: Double(limits.cpuMillis) / 1000)
        // RLIMIT_NPROC is left out on purpose: it counts every process of the host uid (shared by
        // all sandboxes), so the per-run cgroup pids limit is the real bound.
        resourceLimits = [
            ResourceLimit(.openFiles, soft: UInt64(limits.openFiles)),
            ResourceLimit(.fileSize, soft: limits.fileSizeBytes),
        ]
        timeoutNanos = UInt64(limits.wallMilliseconds) * 1_000_000
    }

    /// The compiled filter, and the syscalls it audits.
    mutating func apply(program: SeccompProgram) throws(SandboxRun.Error) {
        // Audited syscalls are answered by the supervisor (SeccompAuditor) through the listener
        // the launcher hands back; sendmsg must never be audited (it carries that hand-off).
        if program.auditedSyscalls.contains(where: { $0.name == "sendmsg" }) {
            throw SandboxRun.Error(.configuration, "seccomp: sendmsg cannot be audited (the listener is handed over with it)")
        }
        auditedSyscalls = program.auditedSyscalls
        seccomp = SeccompFilter(bpf: program.bpf, wantsListener: !program.auditedSyscalls.isEmpty,
                                logActions: program.installFlags & SeccompProgram.flagLog != 0)
    }
}

extension MountPlan {
    /// A policy's filesystem view (binds, symlinks, sized tmpfs mounts) plus the /proc and /dev
    /// every sandbox gets: the one builder for a full policy load and for a prepared policy.
    static func policyView(binds: [(source: String, target: String, readOnly: Bool)],
                           symlinks: [(path: String, target: String)],
                           tmpfs: [(path: String, sizeBytes: UInt64, mode: UInt32)]) -> MountPlan {
        var plan = MountPlan()
        for bind in binds {
            if bind.readOnly { plan.bindReadOnly(bind.source, at: bind.target) }
            else { plan.bindReadWrite(bind.source, at: bind.target) }
        }
        for link in symlinks { plan.symlink(at: link.path, pointingTo: link.target) }
        for mount in tmpfs { plan.tmpfs(at: mount.path, sizeBytes: mount.sizeBytes, mode: mount.mode) }
        plan.proc()
        plan.dev()
        return plan
    }
}
