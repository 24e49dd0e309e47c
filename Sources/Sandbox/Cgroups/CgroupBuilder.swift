import Glibc

extension Cgroups.RunGroup {
    /// Creates a run's directories one hierarchy at a time, remembering what to undo.
    struct Builder {
        typealias Error = Cgroups.Error
        let name: String
        let layout: Cgroups.Layout
        let limits: Cgroups.Limits
        var v1: [Directory] = []
        var v2: String?
        var unenforced: [String] = []

        init(name: String, layout: Cgroups.Layout, limits: Cgroups.Limits) {
            self.name = name
            self.layout = layout
            self.limits = limits
        }

        mutating func build(unified: Bool) throws(Error) {
            switch layout.mode {
            case .none:
                noteUnenforced(layout.note ?? "no writable cgroup hierarchy")
            case .v2:
                try buildV2()
            case .v1, .hybrid:
                let withV2 = layout.mode == .hybrid && unified && layout.v2 != nil
                try buildV1(needed: neededV1Controllers(withV2: withV2))
                if withV2, let hierarchy = layout.v2 {
                    v2 = try makeDirectory(in: hierarchy.ownDirectory)
                }
            }
        }

        mutating func noteUnenforced(_ reason: String) {
            if limits.memoryBytes != nil { unenforced.append("memory: \(reason)") }
            if limits.pids != nil { unenforced.append("pids: \(reason)") }
            if limits.cpuCores != nil { unenforced.append("cpu: \(reason)") }
        }

        /// The v1 controllers a run needs: those with a limit, plus (without a cgroup2 group for
        /// kill and accounting) pids and freezer to find and stop every member and cpuacct for CPU
        /// time. Each hierarchy left out saves a mkdir, an attach write and an rmdir per launch.
        func neededV1Controllers(withV2: Bool) -> Set<Cgroups.Controller> {
            var needed: Set<Cgroups.Controller> = []
            if limits.memoryBytes != nil { needed.insert(.memory) }
            if limits.pids != nil { needed.insert(.pids) }
            if limits.cpuCores != nil { needed.insert(.cpu) }
            if !withV2 { needed.formUnion([.pids, .freezer, .cpuacct, .memory]) }
            return needed
        }

        /// One directory per v1 hierarchy that carries a controller we need (co-mounted ones share).
        mutating func buildV1(needed: Set<Cgroups.Controller>) throws(Error) {
            for hierarchy in layout.v1 where !hierarchy.controllers.isDisjoint(with: needed) {
                let path = try makeDirectory(in: hierarchy.ownDirectory)
                v1.append(Directory(controllers: hierarchy.controllers, path: path, ownDirectory: hierarchy.ownDirectory))
            }
            func dir(_ c: Cgroups.Controller) -> String? { v1.first { $0.controllers.contains(c) }?.path }
            if let memory = limits.memoryBytes {
                if let dir = dir(.memory) {
                    try write(dir + "/memory.limit_in_bytes", String(memory))
                    // Without memsw an agent could push its pages to swap past the limit. (Writing
                    // and reading ENOENT is one path walk fewer than checking for the file first.)
                    let status = CgroupFile.write(dir + "/memory.memsw.limit_in_bytes", String(memory))
                    if status == ENOENT {
                        unenforced.append("memory+swap: the host does not account swap (no memory.memsw)")
                    } else if status != 0 {
                        throw Error(.limit, path: dir + "/memory.memsw.limit_in_bytes", errno: status)
                    }
                } else { unenforced.append("memory: no v1 memory controller mounted") }
            }
            if let pids = limits.pids {
                if let dir = dir(.pids) { try write(dir + "/pids.max", String(pids)) }
                else { unenforced.append("pids: no v1 pids controller mounted") }
            }
            if let cores = limits.cpuCores {
                if let dir = dir(.cpu) {
                    // A new v1 group starts with the kernel's default period, 100 ms
                    // (default_cfs_period()), which is what the quota is computed for.
                    try write(dir + "/cpu.cfs_quota_us", String(Self.quota(cores)))
                } else { unenforced.append("cpu: no v1 cpu controller mounted") }
            }
        }

        /// Pure v2: enable the controllers for our subtree, then one directory with every limit.
        mutating func buildV2() throws(Error) {
            guard let hierarchy = layout.v2 else { return }
            let wanted: [Cgroups.Controller] = [.memory, .pids, .cpu].filter { layout.v2Controllers.contains($0) }
            let parent = hierarchy.ownDirectory + "/" + Cgroups.RunGroup.parentName
            try Self.enableControllers(wanted, own: hierarchy.ownDirectory, parent: parent)
            let path = try makeDirectory(in: hierarchy.ownDirectory)
            v2 = path
            func has(_ c: Cgroups.Controller) -> Bool { wanted.contains(c) }
            if let memory = limits.memoryBytes {
                if has(.memory) {
                    try write(path + "/memory.max", String(memory))
                    if CgroupFile.exists(path + "/memory.swap.max") { try write(path + "/memory.swap.max", "0") }
                } else { unenforced.append("memory: the memory controller is not delegated to us") }
            }
            if let pids = limits.pids {
                if has(.pids) { try write(path + "/pids.max", String(pids)) }
                else { unenforced.append("pids: the pids controller is not delegated to us") }
            }
            if let cores = limits.cpuCores {
                if has(.cpu) { try write(path + "/cpu.max", "\(Self.quota(cores)) 100000") }
                else { unenforced.append("cpu: the cpu controller is not delegated to us") }
            }
        }

        /// v2's "no internal processes" rule: a group with member processes cannot hand controllers
        /// to children, so if our own group holds us, we first move into a `supervisor` leaf (as
        /// systemd and runc do). The root group is exempt.
        static func enableControllers(_ wanted: [Cgroups.Controller], own: String, parent: String) throws(Error) {
            guard !wanted.isEmpty else { return }
            let list = wanted.map { "+" + $0.rawValue }.joined(separator: " ")
            if mkdir(parent, 0o755) != 0 && errno != EEXIST { throw Error(.create, path: parent, errno: errno) }
            var status = CgroupFile.write(own + "/cgroup.subtree_control", list)
            if status == EBUSY {
                let leaf = own + "/supervisor"
                if mkdir(leaf, 0o755) != 0 && errno != EEXIST { throw Error(.create, path: leaf, errno: errno) }
                let moved = CgroupFile.write(leaf + "/cgroup.procs", "0")
                if moved != 0 { throw Error(.attach, path: leaf, errno: moved) }
                status = CgroupFile.write(own + "/cgroup.subtree_control", list)
            }
            if status != 0 { throw Error(.limit, path: own + "/cgroup.subtree_control", errno: status) }
            status = CgroupFile.write(parent + "/cgroup.subtree_control", list)
            if status != 0 { throw Error(.limit, path: parent + "/cgroup.subtree_control", errno: status) }
        }

        /// Creates `<own>/warden/<name>`; the parent is created only when missing (after the first
        /// run it exists, and a failed mkdir of it is one kernfs path walk per hierarchy per launch).
        mutating func makeDirectory(in own: String) throws(Error) -> String {
            let parent = own + "/" + Cgroups.RunGroup.parentName
            let path = parent + "/" + name
            if mkdir(path, 0o755) != 0 {
                guard errno == ENOENT else { throw Error(.create, path: path, errno: errno) }
                if mkdir(parent, 0o755) != 0 && errno != EEXIST { throw Error(.create, path: parent, errno: errno) }
                if mkdir(path, 0o755) != 0 { throw Error(.create, path: path, errno: errno) }
            }
            created.append(path)
            return path
        }

        var created: [String] = []

        func write(_ path: String, _ value: String) throws(Error) {
            let status = CgroupFile.write(path, value)
            if status != 0 { throw Error(.limit, path: path, errno: status) }
        }

        func rollback() {
            for path in created.reversed() { rmdir(path) }
        }

        /// CFS quota in microseconds per 100 ms period, at least the kernel's 1 ms minimum.
        static func quota(_ cores: Double) -> Int {
            max(1000, Int((cores * 100_000).rounded()))
        }
    }
}
