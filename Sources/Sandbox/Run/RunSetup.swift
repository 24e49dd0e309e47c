import Glibc
import HostOS

/// The setup of one run, step by step, remembering what to undo if a later step fails.
struct RunSetup {
    typealias Error = SandboxRun.Error
    private var group: Cgroups.RunGroup?
    private var descriptors: [FileDescriptor] = []

    /// Workspace, cgroup, pipes, launch; returns the running process and its output pumps.
    mutating func start(_ request: SandboxRun.Request, settings: SandboxRun.Settings) throws(Error) -> SandboxRun.StartedRun {
        if let input = request.standardInput { descriptors.append(input) }  // ours from here (undo closes it)
        let workspace = try request.workspace.map { (path: String) throws(Error) in try RunWorkspace.existing(path) }
        let group: Cgroups.RunGroup
        if RunTiming.enabled { _ = Cgroups.Layout.host; RunTiming.mark("cgroup_layout") }
        do throws(Cgroups.Error) {
            group = try Cgroups.RunGroup.create(layout: .host, limits: request.cgroupLimits,
                                                unified: settings.useUnifiedHierarchy,
                                                name: settings.runName ?? Cgroups.RunGroup.nextName())
        } catch {
            throw Error(.cgroup, "cannot create the run's cgroup: \(error)", errno: error.errno)
        }
        self.group = group
        RunTiming.mark("cgroup_created")
        let (outRead, outWrite) = try pipe()
        let (errRead, errWrite) = try pipe()
        var plan = LaunchPlan(executable: request.executable, arguments: request.arguments,
                              environment: request.environment, workingDirectory: request.workingDirectory,
                              mounts: request.mounts)
        if let target = request.workspaceTarget {
            if let workspace {
                plan.mounts.workspace(workspace.path, at: target)
            } else {
                // A fresh workspace is a tmpfs inside the sandbox's own mount namespace: nothing to
                // create, chown or remove on the host, and it vanishes with the namespace. (A host
                // directory under /tmp cost a synchronous discard on rmdir here: ext4 -o discard.)
                // Its pages are charged to the run's memory cgroup; the size caps it without one.
                let size = request.cgroupLimits.memoryBytes ?? RunWorkspace.defaultTemporarySize
                plan.mounts.tmpfs(at: target, sizeBytes: size, mode: 0o1777)
            }
        }
        if let code = request.codeDirectory { plan.mounts.bindReadOnly(code, at: "/agent") }
        plan.loopbackListenPorts = request.loopbackListenPorts
        plan.identity = request.identity
        plan.resourceLimits = request.resourceLimits
        plan.seccomp = request.seccomp
        plan.hostname = request.hostname
        plan.standardOutput = outWrite
        plan.standardError = errWrite
        plan.traceSteps = RunTiming.enabled
        plan.cloneOnCallingThread = settings.cloneOnCallingThread
        plan.standardInput = request.standardInput
        // cgroup2 (pure v2, or hybrid's unified mount): born in the group by CLONE_INTO_CGROUP.
        // cgroup v1: the child moves itself in through tasks files we open (no pid write).
        let v2 = group.openV2Directory()
        if v2 >= 0 { plan.cgroup = FileDescriptor(rawValue: v2) }
        defer { if v2 >= 0 { close(v2) } }
        let tasks: [Int32]
        do throws(Cgroups.Error) {
            tasks = try group.openV1TaskFiles()
        } catch {
            throw Error(.cgroup, "cannot attach to the run's cgroup: \(error)", errno: error.errno)
        }
        defer { for fd in tasks { close(fd) } }
        plan.cgroupTaskFiles = tasks.map { FileDescriptor(rawValue: $0) }
        RunTiming.mark("cgroup_files_opened")
        let v2Attached = v2 >= 0 || group.v2Directory == nil
        let withoutWaiting = settings.confirmExecAtExit && settings.trace == nil && settings.onLaunch == nil
            && v2Attached && !plan.passesDescriptorsBack
        let (process, pendingExec) = try launch(plan, group: group, v2Attached: v2Attached, withoutWaiting: withoutWaiting)
        for fd in [outWrite, errWrite] + (request.standardInput.map { [$0] } ?? []) { close(fd.rawValue) }
        descriptors.removeAll { $0 == outWrite || $0 == errWrite || $0 == request.standardInput }
        descriptors.removeAll { $0 == outRead || $0 == errRead }  // owned by the pumps from here
        let limit = settings.outputLimit
        return SandboxRun.StartedRun(
            process: process, group: group, pendingExec: pendingExec,
            stdout: OutputPump(source: outRead.rawValue, sink: Self.sink(settings.stdout), limit: limit),
            stderr: OutputPump(source: errRead.rawValue, sink: Self.sink(settings.stderr), limit: limit))
    }

    /// Launches; only a cgroup2 group that could not be opened for CLONE_INTO_CGROUP still needs
    /// the `beforeExec` pid write (the v1 groups are joined by the child itself). `withoutWaiting`
    /// returns before exec, with the `PendingExec` that `settle` later asks.
    private func launch(_ plan: LaunchPlan, group: Cgroups.RunGroup, v2Attached: Bool,
                        withoutWaiting: Bool) throws(Error) -> (SandboxedProcess, Launcher.PendingExec?) {
        if RunTiming.enabled { RunTiming.mark("launch_begin") }
        do throws(LaunchError) {
            if withoutWaiting {
                let (process, pending) = try Launcher.launchWithoutWaiting(plan)
                RunTiming.mark("launch_returned")
                return (process, pending)
            }
            let process = try v2Attached ? Launcher.launch(plan) : Launcher.launch(plan) { pid in
                try group.attachV2(pid: pid)
                RunTiming.mark("cgroup_attached")
            }
            RunTiming.mark("launch_returned")
            if RunTiming.enabled { RunTiming.steps(process.stepTimes.map { ($0.step.description, $0.nanoseconds) }) }
            return (process, nil)
        } catch {
            throw Self.translate(error, plan: plan)
        }
    }

    /// For a run launched without waiting for exec, after the process was reaped: throws the setup
    /// failure it had (the program never ran), as `launch` would have.
    static func settle(_ pending: Launcher.PendingExec) throws(Error) {
        let failure = pending.settle()
        if RunTiming.enabled { RunTiming.steps(pending.stepTimes.map { ($0.step.description, $0.nanoseconds) }) }
        if let failure { throw translate(failure, plan: pending.plan) }
    }

    static func translate(_ error: LaunchError, plan: LaunchPlan) -> Error {
        let number = error.errno?.rawValue ?? 0
        switch error.code {
        case .execFailed:
            let reason = error.errno.map { $0.message } ?? "cannot execute"
            return Error(.exec, "\(plan.executable): \(reason)", errno: number, pid: error.pid)
        case .invalidPlan:
            return Error(.configuration, "\(error)", errno: number)
        default:
            return Error(.launch, "\(error)", errno: number, pid: error.pid)
        }
    }

    private mutating func pipe() throws(Error) -> (FileDescriptor, FileDescriptor) {
        do throws(Errno) {
            let ends = try FileDescriptor.pipe()
            descriptors += [ends.readEnd, ends.writeEnd]
            return ends
        } catch {
            throw Error(.launch, "cannot create the output pipes: \(error)", errno: error.rawValue)
        }
    }

    private static func sink(_ sink: SandboxRun.OutputSink) -> OutputPump.Sink {
        switch sink {
        case .descriptor(let fd): .descriptor(fd)
        case .capture: .capture
        case .discard: .discard
        }
    }

    /// After a failed start: closes our pipe ends and removes the cgroup.
    mutating func undo() {
        for fd in descriptors { close(fd.rawValue) }
        descriptors = []
        finish()
    }

    /// After a run: removes the cgroup (killing anything left).
    mutating func finish() {
        try? group?.remove()
        group = nil
    }
}
