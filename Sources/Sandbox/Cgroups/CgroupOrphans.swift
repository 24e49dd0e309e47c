import HostOS
import Glibc
import Synchronization

extension Cgroups {
    /// Kills and removes run groups whose supervisor is gone (for example killed with SIGKILL).
    ///
    /// A run belongs to the supervisor whose pid and start time are in its name; if no process
    /// with that pid and start time exists, nobody will clean it up but us. Returns the names removed.
    @discardableResult
    public static func removeOrphanedRuns(layout: Layout = .detect()) -> [String] {
        var parents = layout.v1.map(\.ownDirectory)
        if let v2 = layout.v2 { parents.append(v2.ownDirectory) }
        var removed: Set<String> = []
        for own in parents {
            let parent = own + "/" + RunGroup.parentName
            if !mayHoldOthers(parent) { continue }
            for name in subdirectories(of: parent) where isOrphan(name) {
                let path = parent + "/" + name
                killAndRemove(path, pure: layout.mode == .v2)
                if !CgroupFile.exists(path) { removed.insert(name) }
            }
        }
        return removed.sorted()
    }

    /// False when `parent` holds nothing but this process's own live runs, so listing it cannot
    /// find an orphan: cgroupfs (kernfs) keeps a directory's link count at 2 + its subdirectories,
    /// and one stat is much cheaper than opening and reading the directory. Any other entry, or a
    /// file system that does not count links that way, means the directory is listed.
    static func mayHoldOthers(_ parent: String) -> Bool {
        var info = stat()
        guard stat(parent, &info) == 0 else { return errno != ENOENT }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_nlink >= 2 else { return true }
        return Int(info.st_nlink) - 2 > LiveRuns.count(in: parent)
    }

    /// True for `run-<pid>-<start>-...` names whose supervisor no longer exists.
    static func isOrphan(_ name: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 3, parts[0] == "run", let pid = Int32(parts[1]), let start = UInt64(parts[2]) else {
            return false
        }
        if pid == getpid() { return start != ownStartTime }
        return processStartTime(pid) != start
    }

    static func killAndRemove(_ path: String, pure: Bool) {
        if CgroupFile.exists(path + "/cgroup.kill") { CgroupFile.write(path + "/cgroup.kill", "1") }
        let deadline = Deadline(milliseconds: 2000)
        while !CgroupFile.pids(path + "/cgroup.procs").isEmpty && !deadline.expired {
            for pid in CgroupFile.pids(path + "/cgroup.procs") { kill(pid, SIGKILL) }
            if CgroupFile.exists(path + "/freezer.state") { CgroupFile.write(path + "/freezer.state", "THAWED") }
            deadline.pause()
        }
        rmdir(path)
    }

    static func subdirectories(of path: String) -> [String] {
        ((try? FileDescriptor.directoryEntries(atPath: path)) ?? []).filter { $0.kind == .directory }.map(\.name)
    }
}

/// The run directories this process created and has not removed, so that the orphan scan can tell
/// from a parent's link count alone that it holds nothing else.
enum LiveRuns {
    private static let paths = Mutex<Set<String>>([])

    static func add(_ directories: [String]) {
        paths.withLock { $0.formUnion(directories) }
    }

    static func remove(_ directory: String) {
        _ = paths.withLock { $0.remove(directory) }
    }

    /// Directories of this process's own runs (named with its pid and start time) under `parent`.
    static func count(in parent: String) -> Int {
        let prefix = parent + "/run-\(getpid())-\(ownStartTime)-"
        return paths.withLock { $0.count { $0.hasPrefix(prefix) } }
    }
}
