// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import HostOS
import Glibc

/// Starts sandboxed processes: the Swift face of the C launcher (CSandboxLauncher).
///
/// Sequence: validate the plan; clone3 (on the launcher's own thread, or the caller's with
/// `cloneOnCallingThread`) into new user, pid, mount, network, ipc and uts namespaces (and the
/// cgroup2 group); while the child runs the steps that need no id map (joining the v1 groups
/// through `cgroupTaskFiles`, session, hostname, loopback, bind sources opened, pivot into an
/// empty tmpfs root), write its uid/gid maps and run `beforeExec(pid)` if given; release it; it enters a new cgroup
/// namespace, becomes the agent's ids, builds the root, applies rlimits, keeps only the listed
/// descriptors, drops every capability, sets no_new_privs, installs seccomp last and execs.
/// Any failure is a `LaunchError`, and the process, if one was started, has been killed and
/// reaped before it is thrown.
public enum Launcher {
    /// Launches `plan`, calling `beforeExec` with the child's host pid while it waits after clone
    /// (its ids are mapped; nothing of the plan has run). The hook runs on the launcher's own
    /// thread while the caller waits, so the child never waits for the caller to be scheduled.
    /// Without a hook the child is released at once (the cgroup v2 path: `LaunchPlan.cgroup`).
    /// The hook must be short and must not launch (launches are serialized on that thread).
    public static func launch(
        _ plan: LaunchPlan, beforeExec: ((Int32) throws -> Void)? = nil
    ) throws(LaunchError) -> SandboxedProcess {
        let (storage, devNull) = try prepare(plan)
        defer { try? devNull?.close() }
        let started = clockNanoseconds()
        let begun: Bool
        let hookError: (any Error)?
        if let beforeExec {
            (begun, hookError) = withoutActuallyEscaping(beforeExec) { hook in
                let box = HookBox(hook)
                storage.launch.pointee.before_exec = { pid, context in
                    Unmanaged<HookBox>.fromOpaque(context!).takeUnretainedValue().call(pid)
                }
                storage.launch.pointee.before_exec_context = Unmanaged.passUnretained(box).toOpaque()
                let begun = withExtendedLifetime(box) { warden_launch_begin(storage.launch, storage.child) == 0 }
                return (begun, box.error)
            }
        } else {
            (begun, hookError) = (warden_launch_begin(storage.launch, storage.child) == 0, nil)
        }
        guard begun, warden_launch_finish(storage.launch, storage.child) == 0 else {
            throw failure(storage, plan, hookError: hookError)
        }
        return process(from: storage.child.pointee, plan: plan, started: started)
    }

    /// Launches `plan` without waiting for its exec: returns as soon as the child has been cloned,
    /// given its id maps and released, while it still runs its checklist. The caller supervises
    /// the process as usual and, once it has been reaped, asks the returned `PendingExec` whether
    /// the program was exec'd or which step failed (the child then exited with status 127 before
    /// running anything of the agent's). A one-shot run saves a wake-up of its supervisor at exec,
    /// and does its own post-launch work while the child sets up.
    ///
    /// Only for plans that pass no descriptors back (no `loopbackListenPorts`, no seccomp
    /// listener): those must be received before exec, which `launch` waits for.
    public static func launchWithoutWaiting(_ plan: LaunchPlan) throws(LaunchError) -> (SandboxedProcess, PendingExec) {
        guard !plan.passesDescriptorsBack else {
            throw LaunchError(step: .validation, errno: nil,
                              detail: "a plan that passes descriptors back (listeners, a seccomp listener) must use launch(_:), which waits for exec")
        }
        let (storage, devNull) = try prepare(plan)
        defer { try? devNull?.close() }
        let started = clockNanoseconds()
        guard warden_launch_begin(storage.launch, storage.child) == 0 else {
            throw failure(storage, plan, hookError: nil)
        }
        let process = process(from: storage.child.pointee, plan: plan, started: started)
        return (process, PendingExec(storage: storage, plan: plan, started: started))
    }

    /// The rest of a `launchWithoutWaiting` launch: the plan and the child's stack, kept until the
    /// child has ended, and the child's report.
    public final class PendingExec: @unchecked Sendable {
        private let storage: LaunchPlanStorage
        let plan: LaunchPlan
        private let started: UInt64
        private var outcome: LaunchError??

        init(storage: LaunchPlanStorage, plan: LaunchPlan, started: UInt64) {
            self.storage = storage
            self.plan = plan
            self.started = started
        }

        /// Call once the process has ended and been reaped: nil if the program was exec'd, else
        /// the setup failure, exactly as `launch` would have thrown it. Idempotent.
        public func settle() -> LaunchError? {
            if let outcome { return outcome }
            let result: LaunchError? = warden_launch_settle(storage.launch, storage.child) == 0
                ? nil : Launcher.failure(storage, plan, hookError: nil)
            outcome = .some(result)
            return result
        }

        /// Per-step times (when `plan.traceSteps`), complete once settled.
        public var stepTimes: [(step: LaunchStep, nanoseconds: UInt64)] {
            Launcher.stepTimes(of: storage.child.pointee, plan: plan, started: started)
        }

        deinit {
            // Never settled (a caller's bug): the child may still read the plan and run on its
            // stack in this address space, so both are left allocated rather than freed under it.
            if outcome == nil { _ = Unmanaged.passRetained(storage) }
        }
    }

    /// Keeps `depth` (0 to 8) network namespaces, loopback up, prepared in the background so that
    /// launches skip creating one (a third of a launch's CPU time). Each is used once. Without the
    /// privilege to create them the pool stays empty and launches create their own, as with depth 0.
    /// Agents in a prepared namespace hold no capability over it (it belongs to the supervisor's
    /// user namespace).
    public static func prepareNetworkNamespaces(depth: Int) throws(LaunchError) {
        let result = warden_netns_pool_enable(Int32(clamping: depth))
        if result < 0 {
            throw LaunchError(step: .spawn, errno: Errno(rawValue: -result), detail: "network namespace pool thread")
        }
    }

    /// Starts preparing one network namespace in the background for the next launch, and no more:
    /// a one-shot command calls this first thing, so that the namespace (the largest single cost
    /// of a launch) is made on another core while it loads its policy and creates its cgroup. If
    /// it is not ready in time the launch creates its own, as without it.
    public static func prepareOneNetworkNamespace() {
        _ = warden_netns_pool_prepare_one()
    }

    /// How many prepared network namespaces are ready, and why preparing stopped (nil: it did not).
    public static var preparedNetworkNamespaces: (ready: Int, stoppedBy: Errno?) {
        var ready: Int32 = 0, failed: Int32 = 0
        _ = warden_netns_pool_status(&ready, &failed)
        return (Int(ready), failed == 0 ? nil : Errno(rawValue: failed))
    }

    private static func openDevNullIfNeeded(_ plan: LaunchPlan) throws(LaunchError) -> FileDescriptor? {
        guard plan.standardInput == nil || plan.standardOutput == nil || plan.standardError == nil else { return nil }
        do {
            return try FileDescriptor.open("/dev/null", .readWrite)
        } catch {
            throw LaunchError(step: .spawn, errno: error, detail: "/dev/null for the agent's stdio")
        }
    }

    /// What both launch paths do before clone: the plan validated, /dev/null for the stdio it
    /// leaves unset (the caller closes it once the child is cloned, which copies the fd table), and
    /// the plan as the C launcher reads it.
    private static func prepare(_ plan: LaunchPlan) throws(LaunchError) -> (storage: LaunchPlanStorage, devNull: FileDescriptor?) {
        try plan.validate()
        let devNull = try openDevNullIfNeeded(plan)
        let stdio = [plan.standardInput, plan.standardOutput, plan.standardError].map { $0 ?? devNull! }
        return (LaunchPlanStorage(plan, stdio: stdio), devNull)
    }

    private static func process(from child: warden_child, plan: LaunchPlan, started: UInt64) -> SandboxedProcess {
        let listeners = withUnsafeBytes(of: child.listeners) { Array($0.bindMemory(to: Int32.self)) }
            .prefix(plan.loopbackListenPorts.count)
            .map { FileDescriptor(rawValue: $0) }
        return SandboxedProcess(
            pid: child.pid,
            pidfd: ProcessDescriptor(descriptor: FileDescriptor(rawValue: child.pidfd)),
            seccompListener: child.seccomp_listener >= 0 ? FileDescriptor(rawValue: child.seccomp_listener) : nil,
            listeners: listeners,
            stepTimes: stepTimes(of: child, plan: plan, started: started)
        )
    }

    /// Nanoseconds from `started` to each step the child (or parent) stamped, when the plan traces.
    private static func stepTimes(of child: warden_child, plan: LaunchPlan, started: UInt64) -> [(step: LaunchStep, nanoseconds: UInt64)] {
        guard plan.traceSteps else { return [] }
        var times: [(step: LaunchStep, nanoseconds: UInt64)] = []
        let stamps = withUnsafeBytes(of: child.step_ns) { Array($0.bindMemory(to: UInt64.self)) }
        for step in LaunchStep.all where stamps[Int(step.rawValue)] != 0 {
            times.append((step, stamps[Int(step.rawValue)] &- started))
        }
        times.sort { $0.nanoseconds < $1.nanoseconds }
        return times
    }

    /// The C launcher's failure record as a LaunchError naming what the step was working on.
    private static func failure(_ storage: LaunchPlanStorage, _ plan: LaunchPlan, hookError: (any Error)?) -> LaunchError {
        let child = storage.child.pointee
        let step = LaunchStep(rawValue: child.failed_step)
        if step == .beforeExec {
            return LaunchError(step: .beforeExec, errno: nil, detail: hookError.map { "\($0)" } ?? "", pid: child.pid)
        }
        let index = Int(child.failed_index)
        var detail = ""
        switch step {
        case .bindSource where plan.mounts.entries.indices.contains(index),
             .mountTarget where plan.mounts.entries.indices.contains(index),
             .mount where plan.mounts.entries.indices.contains(index):
            detail = describe(plan.mounts.entries[index], index: index)
        case .resourceLimits where plan.resourceLimits.indices.contains(index):
            detail = "\(plan.resourceLimits[index].resource)"
        case .listen where plan.loopbackListenPorts.indices.contains(index):
            detail = "127.0.0.1:\(plan.loopbackListenPorts[index])"
        case .descriptors where index >= 3 && plan.descriptors.indices.contains(index - 3):
            detail = "fd \(plan.descriptors[index - 3].parent.rawValue) -> \(plan.descriptors[index - 3].child)"
        case .cgroupAttach where plan.cgroupTaskFiles.indices.contains(index):
            detail = "tasks fd \(plan.cgroupTaskFiles[index].rawValue)"
        case .execve: detail = plan.executable
        case .workingDirectory: detail = plan.workingDirectory
        default: break
        }
        let pid: Int32? = child.pid > 0 ? child.pid : nil
        return LaunchError(step: step, errno: Errno(rawValue: child.failed_errno), detail: detail, pid: pid)
    }

    private static func describe(_ entry: MountPlan.Entry, index: Int) -> String {
        switch entry {
        case .bind(let source, let target, let readOnly, _):
            "mount[\(index)] bind \(source) -> \(target)\(readOnly ? " (ro)" : "")"
        case .tmpfs(let target, _, _, _): "mount[\(index)] tmpfs \(target)"
        case .proc(let target): "mount[\(index)] proc \(target)"
        case .dev(let target, _): "mount[\(index)] dev \(target)"
        case .symlink(let target, let destination): "mount[\(index)] symlink \(target) -> \(destination)"
        case .directory(let target, _): "mount[\(index)] directory \(target)"
        }
    }

    /// The caller's hook, callable from C on the launcher's thread; keeps what it threw.
    private final class HookBox {
        let hook: (Int32) throws -> Void
        var error: (any Error)?
        init(_ hook: @escaping (Int32) throws -> Void) { self.hook = hook }

        func call(_ pid: Int32) -> Int32 {
            do {
                try hook(pid)
                return 0
            } catch {
                self.error = error
                return -1
            }
        }
    }

    private static func clockNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
