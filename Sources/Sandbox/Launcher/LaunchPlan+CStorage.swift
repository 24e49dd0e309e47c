// SPDX-License-Identifier: Apache-2.0
// The plan as the C launcher reads it: one `struct warden_launch` with every string and array in
// memory this object owns. The child reads it from the shared address space until it execs, so
// it must outlive warden_launch_finish / warden_launch_abort.
import CSandboxLauncher
import HostOS
import Glibc

final class LaunchPlanStorage {
    let launch = UnsafeMutablePointer<warden_launch>.allocate(capacity: 1)
    let child = UnsafeMutablePointer<warden_child>.allocate(capacity: 1)
    private var allocations: [UnsafeMutableRawPointer] = []

    init(_ plan: LaunchPlan, stdio: [FileDescriptor]) {
        var c = warden_launch()
        c.path = UnsafePointer(string(plan.executable))
        c.argv = UnsafePointer(stringArray(plan.arguments))
        c.envp = UnsafePointer(stringArray(plan.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }))
        c.cwd = UnsafePointer(string(plan.workingDirectory))
        c.hostname = plan.hostname.map { UnsafePointer(string($0)) }
        let mounts = plan.mounts.entries.map(cMount)
        c.mounts = UnsafePointer(array(mounts))
        c.mount_count = mounts.count
        c.inside_uid = plan.identity.insideUID
        c.inside_gid = plan.identity.insideGID
        c.host_uid = plan.identity.hostUID
        c.host_gid = plan.identity.hostGID
        let limits = plan.resourceLimits.map { warden_rlimit(resource: $0.resource.rawValue, soft: $0.soft, hard: $0.hard) }
        c.rlimits = UnsafePointer(array(limits))
        c.rlimit_count = limits.count
        if let seccomp = plan.seccomp {
            c.seccomp_filter = UnsafeRawPointer(array(seccomp.bpf))
            c.seccomp_length = seccomp.bpf.count
            c.seccomp_flags = (seccomp.wantsListener ? UInt32(WARDEN_SECCOMP_FLAG_NEW_LISTENER) : 0)
                | (seccomp.logActions ? UInt32(WARDEN_SECCOMP_FLAG_LOG) : 0)
        }
        var fds = stdio.enumerated().map { warden_fd_map(parent_fd: $0.element.rawValue, child_fd: Int32($0.offset)) }
        fds += plan.descriptors.map { warden_fd_map(parent_fd: $0.parent.rawValue, child_fd: $0.child) }
        c.fds = UnsafePointer(array(fds))
        c.fd_count = fds.count
        c.listen_ports = UnsafePointer(array(plan.loopbackListenPorts))
        c.listen_port_count = plan.loopbackListenPorts.count
        c.cgroup_fd = plan.cgroup?.rawValue ?? -1
        c.cgroup_task_fds = UnsafePointer(array(plan.cgroupTaskFiles.map(\.rawValue)))
        c.cgroup_task_fd_count = plan.cgroupTaskFiles.count
        c.pdeath_signal = plan.parentDeathSignal
        c.flags = (plan.mounts.rootReadOnly ? UInt32(WARDEN_LAUNCH_ROOT_READONLY) : 0)
            | (plan.shareHostNetwork ? UInt32(WARDEN_LAUNCH_SHARE_NET) : 0)
            | (plan.traceSteps ? UInt32(WARDEN_LAUNCH_TRACE_STEPS) : 0)
            | (plan.cloneOnCallingThread ? UInt32(WARDEN_LAUNCH_CALLING_THREAD) : 0)
        launch.initialize(to: c)
        child.initialize(to: warden_child())
    }

    deinit {
        for pointer in allocations { free(pointer) }
        launch.deallocate()
        child.deallocate()
    }

    private func cMount(_ entry: MountPlan.Entry) -> warden_mount {
        var m = warden_mount()
        m.target = UnsafePointer(string(entry.target))
        switch entry {
        case .bind(let source, _, let readOnly, let noExec):
            m.kind = Int32(WARDEN_MOUNT_BIND.rawValue)
            m.source = UnsafePointer(string(source))
            m.flags = (readOnly ? UInt32(WARDEN_MOUNT_READONLY) : 0) | (noExec ? UInt32(WARDEN_MOUNT_NOEXEC) : 0)
        case .tmpfs(_, let size, let mode, let readOnly):
            m.kind = Int32(WARDEN_MOUNT_TMPFS.rawValue)
            m.size = size
            m.mode = mode
            m.flags = readOnly ? UInt32(WARDEN_MOUNT_READONLY) : 0
        case .proc:
            m.kind = Int32(WARDEN_MOUNT_PROC.rawValue)
        case .dev(_, let sharedMemory):
            m.kind = Int32(WARDEN_MOUNT_DEV.rawValue)
            m.flags = sharedMemory ? UInt32(WARDEN_MOUNT_DEV_SHM) : 0
        case .symlink(_, let destination):
            m.kind = Int32(WARDEN_MOUNT_SYMLINK.rawValue)
            m.source = UnsafePointer(string(destination))
        case .directory(_, let mode):
            m.kind = Int32(WARDEN_MOUNT_DIR.rawValue)
            m.mode = mode
        }
        return m
    }

    private func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(text)!
        allocations.append(copy)
        return copy
    }

    private func stringArray(_ texts: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let pointers: [UnsafeMutablePointer<CChar>?] = texts.map { string($0) } + [nil]
        return array(pointers)
    }

    /// A malloc'd copy of `values` (never a null pointer, even when empty).
    private func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let raw = malloc(max(1, values.count * MemoryLayout<T>.stride))!
        allocations.append(raw)
        let typed = raw.bindMemory(to: T.self, capacity: max(1, values.count))
        values.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { typed.initialize(from: base, count: buffer.count) }
        }
        return typed
    }
}
